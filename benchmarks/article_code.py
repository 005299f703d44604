"""The seed article's TensorFlow 2.0 code, as published (../shared/article.txt), as a reference.

Only the indentation (lost in the article's translation) is restored, and the three
methods sit in a class with the ``self.model`` / ``self.optim`` they use; the lines
themselves are the article's, typos included. ``benchmarks/step_speed.py`` times
``train_on_batch`` against this package's train step. It imports Keras 3 directly
(``tensorflow.keras`` in TF 2.0).
"""

import tensorflow as tf
from keras import Model, layers


class ArticleIIC:
    def __init__(self):
        self.model = self.create_model()
        self.optim = tf.keras.optimizers.Adam(learning_rate=0.0001)  # "Adams Rate 0,0001"

    def create_model(self):
        inputs = layers.Input((28,28,1))
        x = layers.Conv2D(32, 3, padding="same")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(64, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(128, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(256, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        conv_out = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(128, activation="relu")(conv_out)
        x = layers.Dense(64, activation="relu")(x)
        Z = layers.Dense(10, activation="softmax")(x)
        x = layers.Dense(128, activation="relu")(conv_out)
        x = layers.Dense(64, activation="relu")(x)
        overclustering = layers.Dense(50, activation="softmax")(x)
        return Model(inputs, [Z, overclustering])

    def IIC(self, z, z_, c=10):
        z = tf.reshape(z, [-1, c, 1])
        z_ = tf.reshape(z_, [-1, 1, c])
        P = tf.math.reduce_sum(z * z_, axis=0) #Gleichzeitige Wahrscheinlichkeit
        P = (P + tf.transpose(P)) / 2 #Symmetrie
        P = tf.clip_by_value(P, 1e-7, tf.float32.max) #Vorspannung, um eine logarithmische Divergenz zu verhindern
        P = P / tf.math.reduce_sum(P) #Standardisierung
        #Periphere Wahrscheinlichkeit
        Pi = tf.math.reduce_sum(P, axis=0)
        Pi = tf.reshape(Pi, [c, 1])
        Pi = tf.tile(Pi, [1,c])
        Pj = tf.math.reduce_sum(P, axis=1)
        Pj = tf.reshape(Pj, [1, c])
        Pj = tf.tile(Pj, [c,1])
        loss = tf.math.reduce_sum(P * (tf.math.log(Pi) + tf.math.log(Pj) - tf.math.log(P)))
        return loss

    @tf.function
    def train_on_batch(self, X, X_):
        with tf.GradientTape() as tape:
            z, overclustering = self.model(X, training=True)
            z_, overclustering_ = self.model(X_, training=True)
            loss_cluster = self.IIC(z, z_)
            loss_overclustering = self.IIC(overclustering, overclustering_, c=50)
            loss = (loss_cluster + loss_overclustering) / 2
        graidents = tape.gradient(loss, self.model.trainable_weights)
        self.optim.apply_gradients(zip(graidents, self.model.trainable_weights))
        return loss_cluster, loss_overclustering
