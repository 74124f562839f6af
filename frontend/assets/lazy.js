// Charts below the fold are drawn when they scroll into view: a page is complete without
// them, and plotly draws nothing the reader has not reached. Each placeholder names the
// dcc.Store (data-lazy-store) whose data this sets to true, once, which its callback answers
// with the charts.
(function () {
  // Images above a placeholder may not have their height yet: it is only in view if it still
  // is once they have loaded.
  function imagesLoaded() {
    const pending = [...document.images].filter((image) => !image.complete);
    return Promise.all(
      pending.map((image) => new Promise((done) => {
        image.addEventListener("load", done, { once: true });
        image.addEventListener("error", done, { once: true });
      }))
    );
  }
  function inView(element) {
    const box = element.getBoundingClientRect();
    return box.top < window.innerHeight && box.bottom > 0;
  }
  const seen = new IntersectionObserver(function (entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const element = entry.target;
      seen.unobserve(element);
      imagesLoaded().then(function () {
        if (!element.isConnected) return;
        if (inView(element)) {
          window.dash_clientside.set_props(element.dataset.lazyStore, { data: true });
        } else {
          seen.observe(element);
        }
      });
    }
  });
  function watch() {
    for (const element of document.querySelectorAll("[data-lazy-store]")) {
      if (element.dataset.lazyWatched) continue;
      element.dataset.lazyWatched = "1";
      seen.observe(element);
    }
  }
  // Dash renders each page after the scripts ran: watch what it adds.
  new MutationObserver(watch).observe(document.documentElement, { childList: true, subtree: true });
})();
