/* Links that open a notebook in the site's in-browser Jupyter (book/_ext/browser_notebooks.py).
 * JupyterLite needs the site served over HTTP: from a page opened as a file, such a link says
 * how to serve it instead of opening a page that cannot start. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  if (location.protocol !== "file:") {
    return;
  }
  for (const link of document.querySelectorAll("a.lite-link")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      if (link.nextElementSibling && link.nextElementSibling.classList.contains("lite-file-note")) {
        return;
      }
      const note = document.createElement("span");
      note.className = "lite-file-note";
      note.setAttribute("role", "status");
      note.textContent =
        " (notebooks in the browser need the site served over HTTP: in the site's folder, run " +
        "python3 -m http.server and open http://localhost:8000/)";
      link.after(note);
    });
  }
});
