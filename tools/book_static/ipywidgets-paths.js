// Loaded between require.js and the ipywidgets embedder (tools/book_assets.py).
// The embedder finds its own files (Font Awesome fonts) next to the AMD module
// "@jupyter-widgets/html-manager/dist/libembed-amd", which require.js would look for
// under the page's folder; point that module path at the book's copy in _static/.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.require.config({
    paths: {"@jupyter-widgets/html-manager/dist": here + "html-manager"}
  });
})();
