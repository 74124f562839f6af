// Keyboard steps of the filter view: left/right arrow the previous/next filter, with shift the
// previous/next image. They click the view's own links, so the address stays the view's state.
(function () {
  const LINKS = {
    ArrowLeft: ["filter-prev", "image-prev"],
    ArrowRight: ["filter-next", "image-next"],
  };
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey || !(event.key in LINKS)) return;
    // Typing in a field keeps its arrows.
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const link = document.getElementById(LINKS[event.key][event.shiftKey ? 1 : 0]);
    if (link) {
      event.preventDefault();
      link.click();
    }
  });
})();
