"""Every setting of a training run, and the named recipes.

A setting is ONE field of :class:`TrainConfig` (or of
:class:`~iic_tutorial.augment.AugmentConfig` for the views): its default,
its type and one line of help in the field's ``metadata``. From these fields
:func:`add_config_arguments` generates the command line's options (the help
line is the option's help text), :func:`config_from_args` reads them back and
:meth:`TrainConfig.describe` says in words how a run differs from its recipe
(the README's and chapter 9's tables). Adding a setting touches nothing else.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .. import recipes
from ..augment import VIEWS, AugmentConfig

__all__ = ["TrainConfig", "PRECISIONS", "RECIPES", "RECIPE_STEPS", "VIEWS", "VIEWS_X", "add_config_arguments",
           "config_from_args", "setting", "positive_int", "non_negative_float"]

#: The numeric modes of the train step (``TrainConfig.precision``).
PRECISIONS = ("auto", "fp32", "bf16")


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")


def _integer(minimum: int, words: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``; ``words`` name it in the error message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {words}, got {value}")
        return value

    parse.__name__ = words.replace(" ", "_")
    return parse


#: argparse types: an integer >= 1, an integer >= 0 (with clear messages otherwise).
positive_int = _integer(1, "a positive integer")
non_negative_int = _integer(0, "an integer >= 0")


def _number(text: str) -> float:
    """The number ``text`` says, or argparse's error naming it."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def non_negative_float(text: str) -> float:
    """argparse type: a number >= 0 (not NaN)."""
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def finite_float(text: str) -> float:
    """argparse type: a finite number, of either sign (a loss in nats, say)."""
    value = _number(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number > 0, got 0")
    return value


#: The words of ``--view-x``: the same views, and "none" for x used as it is (None).
VIEWS_X: Mapping[str, Callable[[], AugmentConfig | None]] = {**VIEWS, "none": lambda: None}


def setting(default: Any = dataclasses.MISSING, *, help: str, factory: Callable | None = None,
            parse: Callable[[str], Any] | None = None, flag: str | None = None,
            values: Mapping[str, Any] | None = None, cli: bool = True,
            describe: bool = True) -> Any:
    """A :class:`TrainConfig` field with what the command line and the tables need to know.

    help: one line, the option's help text. parse: the argparse type of its
    value. flag: the option (default ``--name-with-dashes``). values: words
    the option takes and the field value each means (``--batchnorm keras``
    -> ``fused_batchnorm=False``). cli: whether it is an option at all.
    describe: whether :meth:`TrainConfig.describe` names it when it differs
    from the recipe (off for alpha and seed, which the tables show anyway).
    """
    metadata = {"help": help, "parse": parse, "flag": flag, "values": values, "cli": cli,
                "describe": describe}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


#: Steps at the end of a restart candidate's phase whose mean loss decides which one trains
#: on (``restarts.WINDOW``; the loss of one step is noisy).
RESTART_WINDOW = 100

#: Values of fields that runs saved before the field existed were made with.
_LEGACY_DEFAULTS = {"precision": "fp32", "fused_batchnorm": False}


class _RecipeMakers(type):
    """Gives ``TrainConfig.<name>(alpha, seed, **changes)`` for every recipe of the table.

    The makers are derived, not written: ``TrainConfig.long_band(seed=2)`` is
    ``TrainConfig.named("long_band", seed=2)``, so a new recipe needs no method.
    """

    def __getattr__(cls, name: str):
        if name.startswith("_") or name not in recipes.RECIPES:
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")

        def make(alpha: float | None = None, seed: int = 0, **changes) -> "TrainConfig":
            if alpha is not None:
                changes["alpha"] = alpha
            return cls.named(name, seed=seed, **changes)

        make.__name__ = make.__qualname__ = name
        make.__doc__ = (f"The recipe {name!r}: {recipes.RECIPES[name].about}. Same as "
                        f"TrainConfig.named({name!r}, alpha=alpha, seed=seed, **changes).")
        return make

    def __dir__(cls) -> list[str]:
        return sorted(set(super().__dir__()) | set(recipes.RECIPES))


@dataclass
class TrainConfig(metaclass=_RecipeMakers):
    """Every setting of a training run (saved with each checkpoint and result).

    The defaults are the article's recipe (``TrainConfig.article()``); the
    named recipes (:mod:`iic_tutorial.recipes`) are ``TrainConfig.named(name)``
    or ``TrainConfig.<name>()``. Each field's help line (``python -m iic_tutorial train
    --help`` prints them) says what it does. A training *step* takes
    ``batch_size`` pairs (z, z'): ``batch_size // copies`` images, each with
    ``copies`` augmented versions of itself.
    """

    recipe: str = setting(
        "article", cli=False, describe=False,
        help="the named recipe these settings start from (a key of RECIPES); set by its constructor")
    alpha: float = setting(
        1.0, parse=non_negative_float, describe=False,
        help="weight of the marginal entropies of the 10-cluster head in the IIC loss; "
             "1 is the paper's loss")
    alpha_over: float | None = setting(
        None, parse=non_negative_float, describe=False,
        help="the same weight for the 50-cluster head (unset: alpha)")
    alpha_warmup: int = setting(
        0, parse=non_negative_int,
        help="steps over which the weight grows linearly from 1 to alpha (0: alpha from the start)")
    lr: float = setting(1e-4, parse=positive_float, help="Adam learning rate")
    lr_drop_step: int = setting(
        0, parse=non_negative_int, flag="--lr-drop",
        help="from this step on the learning rate is lr / 10 (0: never)")
    batch_size: int = setting(1000, parse=positive_int, help="pairs (z, z') per step")
    copies: int = setting(
        1, parse=positive_int,
        help="augmented versions of each image in a step (images per step = batch_size // copies)")
    view: AugmentConfig = setting(
        factory=AugmentConfig.article, values=VIEWS, flag="--view",
        help="the augmentation that makes x' from x (fast: rotation, zoom/shift, intensity; "
             "article: rotation, distortion, binarisation, noise)")
    view_x: AugmentConfig | None = setting(
        None, values=VIEWS_X, flag="--view-x",
        help="the augmentation of x itself (none: x as it is, so its forward pass runs once "
             "per image, not once per copy)")
    over_clustering: bool = setting(
        True, help="train the 50-cluster head too (loss = mean of both heads' losses)")
    num_subheads: int = setting(
        1, parse=positive_int, flag="--subheads",
        help="independent copies of each head on the shared trunk (the official code uses 5); "
             "evaluation uses the one with the lowest recent loss, chosen without labels")
    pooling: str = setting(
        "gap", values={"gap": "gap", "flatten": "flatten"},
        help="how the trunk's last 3 x 3 x 256 map becomes the heads' input: gap averages it "
             "(the article's network), flatten keeps where each feature is (the official IIC "
             "network's heads)")
    restarts: int = setting(
        1, parse=positive_int,
        help="train this many candidates (seeds seed * restarts + 0, 1, ...) for restart_steps "
             f"steps each and continue the one with the lowest mean loss over its last "
             f"{RESTART_WINDOW} steps, chosen without labels (1: one run, no choice)")
    restart_steps: int = setting(
        500, parse=positive_int,
        help="steps each candidate trains before the lowest loss picks one (with restarts > 1)")
    restart_above: float | None = setting(
        None, parse=finite_float,
        help="with restarts > 1: the candidates train one after another, and the first whose "
             f"mean loss over its last {RESTART_WINDOW} steps (nats) is at or below this trains "
             "on; one above it makes the next seed start (unset: every candidate trains and the "
             "lowest loss wins)")
    self_label: float = setting(
        0.0, parse=non_negative_float,
        help="weight of self-labelling's cross-entropy (SCAN's last step) added to the loss: each "
             "image the 10-cluster head assigns above self_label_threshold takes that cluster as "
             "its label, and its views pay their cross-entropy with it (0: off)")
    self_label_threshold: float = setting(
        0.99, parse=non_negative_float,
        help="the probability above which self-labelling takes an image's cluster as its label")
    k: int = setting(10, parse=positive_int, help="clusters of the main head")
    k_over: int = setting(50, parse=positive_int, help="clusters of the over-clustering head")
    seed: int = setting(
        0, parse=int, describe=False,
        help="weights, sampling and augmentation all derive from it")
    precision: str = setting(
        "auto", values={p: p for p in PRECISIONS},
        help="numerics of the train step: bf16 runs the network in oneDNN bfloat16 (P and the "
             "loss in float64); auto is bf16 on a CPU with bfloat16 hardware and no GPU, "
             "fp32 elsewhere")
    fused_batchnorm: bool = setting(
        True, flag="--batchnorm", values={"fused": True, "keras": False},
        help="BatchNorm's training pass: TensorFlow's fused kernel (same maths, faster) or "
             "Keras's own ops, as runs saved before the fused layer were trained")
    synchronized_batchnorm: bool = setting(
        False, help="under a strategy with several replicas, normalise by the statistics of the "
                    "global batch (an all-reduce per BatchNorm layer); off: each replica by its "
                    "own share, as one device would with a batch that size")
    validate_inputs: bool = setting(
        False, help="check inside the step that every row of z and z' is a probability vector "
                    "(off: the heads end in softmax and fit checks the loss for NaN)")

    def __post_init__(self) -> None:
        _check_precision(self.precision)
        if self.recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {tuple(RECIPES)}; got {self.recipe!r}")
        if self.alpha < 0 or (self.alpha_over is not None and self.alpha_over < 0):
            raise ValueError(f"alpha and alpha_over must be >= 0; got {self.alpha}, {self.alpha_over}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr}")
        if self.lr_drop_step < 0:
            raise ValueError(f"lr_drop_step must be a step number >= 0; got {self.lr_drop_step}")
        if self.alpha_warmup < 0:
            raise ValueError(f"alpha_warmup must be a number of steps >= 0; got {self.alpha_warmup}")
        if self.copies < 1 or self.batch_size < self.copies or self.batch_size % self.copies:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a positive multiple of copies ({self.copies})"
            )
        if self.num_subheads < 1 or self.k < 1 or self.k_over < 1:
            raise ValueError(f"num_subheads, k and k_over must be >= 1; got "
                             f"{self.num_subheads}, {self.k}, {self.k_over}")
        if self.self_label < 0 or not 0 <= self.self_label_threshold < 1:
            raise ValueError(f"self_label must be a weight >= 0 and self_label_threshold a "
                             f"probability in [0, 1); got {self.self_label}, {self.self_label_threshold}")
        if self.restarts < 1 or self.restart_steps < 1:
            raise ValueError(f"restarts and restart_steps must be >= 1; got {self.restarts}, "
                             f"{self.restart_steps}")
        if self.restart_above is not None:
            if not math.isfinite(self.restart_above):
                raise ValueError(f"restart_above must be a finite loss in nats; got {self.restart_above}")
            if self.restarts < 2:
                raise ValueError(f"restart_above ({self.restart_above}) decides between restart "
                                 "candidates: give restarts >= 2 too (--restarts)")
        if isinstance(self.view, dict):
            self.view = AugmentConfig.from_dict(self.view)
        if not isinstance(self.view, AugmentConfig):
            raise ValueError(f"view must be an AugmentConfig (the augmentation that makes x'); got "
                             f"{self.view!r}. AugmentConfig.none() is the identity")
        if isinstance(self.view_x, dict):
            self.view_x = AugmentConfig.from_dict(self.view_x)

    @property
    def images_per_step(self) -> int:
        """Distinct images in one step: batch_size // copies."""
        return self.batch_size // self.copies

    def steps_per_epoch(self, n: int) -> int:
        """Steps in one pass over n images: max(1, n // images_per_step)."""
        return max(1, n // self.images_per_step)

    def alpha_at(self, step: int, over: bool = False) -> float:
        """The marginal-entropy weight used at a step: 1 -> alpha over alpha_warmup steps.

        ``over=True`` gives the over-clustering head's weight (alpha_over, or alpha).
        """
        target = self.alpha if not over or self.alpha_over is None else self.alpha_over
        if self.alpha_warmup <= 0 or step >= self.alpha_warmup:
            return float(target)
        return 1.0 + (target - 1.0) * step / self.alpha_warmup

    # ------------------------------------------------------------ recipes
    @classmethod
    def named(cls, recipe: str, **changes) -> "TrainConfig":
        """The recipe called ``recipe`` (a key of :data:`iic_tutorial.recipes.RECIPES`), changed.

        ``changes``: values of fields (``seed=1``), or settings of the view
        (``erase_p=0.5``, applied to the recipe's view). ``TrainConfig.<recipe>()``
        is the same call, with alpha and seed as its first two arguments.
        """
        settings, view_changes = recipes.resolve(recipe)
        values = {k: _named_view(k, v) if k in ("view", "view_x") else v for k, v in settings.items()}
        fields = {f.name for f in dataclasses.fields(cls)}
        view_fields = {f.name for f in dataclasses.fields(AugmentConfig)}
        unknown = sorted(set(changes) - fields - view_fields)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: neither a setting of {cls.__name__} nor of its "
                             f"view; settings are {', '.join(sorted(fields - {'recipe'}))}")
        config = cls(**{**values, "recipe": recipe})  # cls: subclasses keep theirs
        if view_changes:  # the recipe as it is, then what the caller changes (a view replaces it)
            config = dataclasses.replace(config, view=dataclasses.replace(config.view, **view_changes))
        config = dataclasses.replace(config, **{k: v for k, v in changes.items() if k in fields})
        knobs = {k: v for k, v in changes.items() if k in view_fields}
        return dataclasses.replace(config, view=dataclasses.replace(config.view, **knobs)) if knobs else config

    def same_settings(self, other: "TrainConfig", ignore: tuple[str, ...] = ()) -> bool:
        """Whether ``other`` trains as this does: every field equal but ``recipe`` and ``ignore``.

        ``recipe`` is only the name a run was started under: ``--recipe
        long_band --subheads 5`` has the settings of ``long_band_sub5``.
        ``ignore``: other fields to leave out (``("seed", "precision")``:
        any seed of the recipe, in any numerics). ValueError for a name that
        is not a field.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(ignore) - names)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not settings of {type(self).__name__}")
        neutral = {name: getattr(self, name) for name in ("recipe", *ignore)}
        return dataclasses.replace(other, **neutral) == self

    # ---------------------------------------------------------- in words
    def describe(self) -> str:
        """The recipe's name and, in brackets, every setting that differs from it.

        ``"fast (lr_drop_step=900, view: erase_p=0.5)"``; alpha and the seed
        are left out (the tables have columns for them).
        """
        base = type(self).named(self.recipe)
        changed = []
        for f in dataclasses.fields(self):
            value, default = getattr(self, f.name), getattr(base, f.name)
            if not f.metadata.get("describe", True) or value == default:
                continue
            if f.name in ("view", "view_x"):
                changed.append(_describe_view(f.name, value, default))
            elif f.metadata.get("values"):
                word = _word_for(f.metadata["values"], value)
                label = (f.metadata["flag"] or f.name).lstrip("-")
                changed.append(f"{label}={word}" if word else f"{f.name}={value}")
            else:
                changed.append(f"{f.name}={value:g}" if isinstance(value, float) else f"{f.name}={value}")
        return f"{self.recipe}{' (' + ', '.join(changed) + ')' if changed else ''}"

    # -------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """Plain-JSON form."""
        d = dataclasses.asdict(self)
        d["view"] = self.view.to_dict()
        d["view_x"] = None if self.view_x is None else self.view_x.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of :meth:`to_dict`.

        A field missing from ``d`` (a run saved before the field existed)
        takes the value such runs were trained with, not today's default. Runs
        saved before the recipe's name was stored were made by the CLI's two
        recipes, which differ in ``copies``: 5 (fast) or 1 (article).
        """
        d = dict(d)
        d.setdefault("recipe", "fast" if d.get("copies", 1) > 1 else "article")
        return cls(**{**_LEGACY_DEFAULTS, **d})


class _Derived(Mapping):
    """A read-only view of :data:`iic_tutorial.recipes.RECIPES`: name -> one thing of each recipe.

    Live: a recipe added to the table is in it at once (the test of "one edit").
    """

    def __init__(self, read: Callable[[str], Any], only_set: bool = False):
        self._read, self._only_set = read, only_set

    def _names(self) -> list[str]:
        return [n for n in recipes.RECIPES if not self._only_set or self._read(n) is not None]

    def __getitem__(self, name: str) -> Any:
        if name not in self._names():
            raise KeyError(name)
        return self._read(name)

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return repr(dict(self))


#: The named recipes and their one-line descriptions (derived from ``recipes.RECIPES``).
RECIPES: Mapping[str, str] = _Derived(lambda name: recipes.RECIPES[name].about)

#: The length a recipe trains for, in steps: ``--steps``'s default for it (recipes without
#: one are not here: give --steps or --epochs). Derived from ``recipes.RECIPES``.
RECIPE_STEPS: Mapping[str, int] = _Derived(recipes.length, only_set=True)


def _named_view(name: str, word: Any) -> AugmentConfig | None:
    """The view a recipe names by its word ("fast", "article", "mild", "none")."""
    words = VIEWS_X if name == "view_x" else VIEWS
    if word not in words:
        raise ValueError(f"a recipe's {name} is one of the words {tuple(words)}; got {word!r}")
    return words[word]()


def _word_for(values: Mapping[str, Any], value: Any) -> str | None:
    """The option word whose value is ``value`` (None if no word means it)."""
    for word, v in values.items():
        if (v() if callable(v) else v) == value:
            return word
    return None


def _describe_view(name: str, view: AugmentConfig | None, base: AugmentConfig | None) -> str:
    word = _word_for(VIEWS_X if name == "view_x" else VIEWS, view)
    if word is not None:
        return f"{name}={word}"
    kind = type(view)  # an AugmentConfig subclass with transforms of its own reads the named views
    for named in ("article", "fast"):
        for transform in kind.transforms():
            if view == kind.from_dict(VIEWS[named]().to_dict()).only(transform):
                return f"{name}={named}, {transform} only"
    reference = kind.from_dict((base or AugmentConfig.none()).to_dict())
    diffs = [f"{k}={v}" for k, v in view.to_dict().items() if v != reference.to_dict()[k]]
    return f"{name}: {', '.join(diffs)}"


# ------------------------------------------------------------------ command line
def _flag(f: dataclasses.Field, prefix: str = "") -> str:
    return f.metadata.get("flag") or f"--{prefix}{f.name.replace('_', '-')}"


def add_config_arguments(parser: argparse.ArgumentParser, config_class: type = None,
                         view_class: type = None) -> None:
    """Add an option for every :class:`TrainConfig` field (and every view setting) to a parser.

    ``config_class``: a TrainConfig subclass with fields of its own (made with
    :func:`setting`) gets options for them too -- the test of "one edit";
    ``view_class``: the same for an AugmentConfig subclass with transforms of its own.

    Every option defaults to "unset" (the recipe's value). Fields of type bool
    get ``--name`` / ``--no-name``; fields with ``values`` take one of their
    words; the view's own settings are ``--view-<setting>`` (and the short
    aliases its :func:`~iic_tutorial.augment.knob` names, e.g. ``--erase``),
    applied to the view after ``--view`` and ``--only``.
    """
    names = ", ".join(f"'{n}' ({text})" for n, text in RECIPES.items())
    parser.add_argument("--recipe", choices=tuple(RECIPES), default=recipes.DEFAULT,
                        help=f"the settings to start from: {names}; the options below override "
                             f"them (default: {recipes.DEFAULT})")
    group = parser.add_argument_group("recipe settings (default: the recipe's)")
    for f in dataclasses.fields(config_class or TrainConfig):
        meta = f.metadata
        if not meta.get("cli", True):
            continue
        kwargs: dict = {"default": None, "dest": f"config_{f.name}", "help": meta["help"]}
        if meta.get("values"):
            kwargs["choices"] = tuple(meta["values"])
        elif isinstance(f.default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = meta.get("parse") or str
            kwargs["metavar"] = _flag(f).lstrip("-").upper().replace("-", "_")
        group.add_argument(_flag(f), **kwargs)
    view_class = view_class or AugmentConfig
    group.add_argument("--only", choices=view_class.transforms(), default=None, dest="view_only",
                       help="keep only this transform of the view (an ablation)")
    views = parser.add_argument_group("the view's own settings (default: the view's)")
    for f in dataclasses.fields(view_class):
        meta = f.metadata
        flags = [f"--view-{f.name.replace('_', '-')}", *meta.get("aliases", ())]
        kwargs = {"default": None, "dest": f"view_{f.name}", "help": meta.get("help", f.name),
                  "type": non_negative_float, "metavar": "PX" if "pixels" in meta.get("help", "")
                  else "VALUE"}
        if isinstance(f.default, tuple):
            kwargs.update(nargs=len(f.default), metavar=("LOW", "HIGH"))
        views.add_argument(*flags, **kwargs)


def config_from_args(args: argparse.Namespace, config_class: type = None,
                     view_class: type = None) -> TrainConfig:
    """The :class:`TrainConfig` the options of :func:`add_config_arguments` describe.

    The recipe first, then every option given; the view: ``--view`` (or the
    recipe's), then ``--only``, then its own settings. Raises ValueError (with
    the reason) for settings that do not fit together. ``view_class``: as in
    :func:`add_config_arguments`; the view is read as one.
    """
    config_class = config_class or TrainConfig
    view_class = view_class or AugmentConfig
    changes: dict = {}
    for f in dataclasses.fields(config_class):
        value = getattr(args, f"config_{f.name}", None)
        if value is None:
            continue
        values = f.metadata.get("values")
        if values:
            value = values[value]
            value = value() if callable(value) else value
        changes[f.name] = value
    config = config_class.named(args.recipe, **changes)
    view = config.view
    if not isinstance(view, view_class):
        view = view_class.from_dict(view.to_dict())
    if getattr(args, "view_only", None):
        view = view.only(args.view_only)
    tweaks = {f.name: getattr(args, f"view_{f.name}") for f in dataclasses.fields(view_class)
              if getattr(args, f"view_{f.name}", None) is not None}
    if tweaks:
        view = dataclasses.replace(view, **tweaks)
    return dataclasses.replace(config, view=view) if view != config.view else config
