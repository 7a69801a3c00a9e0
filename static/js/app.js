// Zhongkong front-end glue. Loaded with `defer`; no inline script anywhere (CSP).
(function () {
  "use strict";
  // Close the user menu after a click elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
