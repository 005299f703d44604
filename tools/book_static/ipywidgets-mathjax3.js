// Loaded (deferred) right after MathJax 3 on pages with embedded widgets
// (tools/book_assets.py). ipywidgets typesets widget labels with MathJax 2's
// MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); with MathJax 3 that call
// throws "Cannot read properties of undefined (reading 'Queue')" and the widget
// (a slider, say) is never drawn. Give MathJax 3 that one call.
(function () {
  var mj = window.MathJax;
  if (!mj || mj.Hub || !mj.startup || !mj.startup.promise) {
    return;
  }
  mj.Hub = {
    Queue: function () {
      Array.prototype.forEach.call(arguments, function (command) {
        if (Array.isArray(command) && command[0] === "Typeset") {
          var element = command[2];
          mj.startup.promise.then(function () {
            return mj.typesetPromise(element ? [element] : undefined);
          });
        }
      });
    }
  };
})();
