// The "Copy link" button: copies the page's address as the browser holds it now (the
// server keeps each page's view in it), or shows it selected where the clipboard is
// out of reach (navigator.clipboard is undefined over plain http on a network address).

// Where the button sits: in the page's header bar, left of Streamlit's own status and menu,
// so it takes no room from a page (the Draw page's pad is sized to the screen). Its element
// holder is taken out of the page's flow as soon as it is drawn, on every run.
const PLACE = { position: "fixed", top: "0.6rem", right: "3.5rem", zIndex: "999991", width: "auto" };

export default function (component) {
  const root = component.parentElement.querySelector(".copy-link");
  const host = root.getRootNode().host || component.parentElement;
  const holder = host.closest("[data-testid='stElementContainer']");
  if (holder) Object.assign(holder.style, PLACE);
  if (holder && !holder.dataset.watched) {
    // On a phone the open sidebar lies over the page, its close button where this one sits:
    // hidden while it is open (Streamlit's narrow layout starts under 768 px).
    holder.dataset.watched = "1";
    const sidebar = document.querySelector("[data-testid='stSidebar']");
    const sync = () => {
      const open = sidebar && sidebar.getAttribute("aria-expanded") === "true";
      holder.style.visibility = open && window.innerWidth < 768 ? "hidden" : "";
    };
    if (sidebar) new MutationObserver(sync).observe(sidebar, { attributes: true, attributeFilter: ["aria-expanded"] });
    window.addEventListener("resize", sync);
    sync();
  }
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  const button = root.querySelector("button");
  const field = root.querySelector("input");
  const label = button.querySelector("span");
  const note = root.querySelector(".note");
  let timer = null;
  const say = (done, hint) => {
    label.textContent = done ? "Link copied" : "Copy link";
    note.textContent = hint;
    clearTimeout(timer);
    timer = setTimeout(() => { label.textContent = "Copy link"; note.textContent = ""; }, 4000);
  };
  button.addEventListener("click", async () => {
    const link = window.location.href;
    root.dataset.link = link;
    field.value = link;
    try {
      await navigator.clipboard.writeText(link);
      field.hidden = true;
      root.dataset.copied = "clipboard";
      say(true, "");
    } catch (error) {
      field.hidden = false;
      field.size = Math.min(60, link.length);
      field.focus();
      field.select();
      let copied = false;
      try { copied = document.execCommand("copy"); } catch (ignored) { copied = false; }
      // Copied after all (the older way still works over plain http): the field goes again.
      if (copied) field.hidden = true;
      root.dataset.copied = copied ? "selection" : "shown";
      say(copied, copied ? "" : "Press Ctrl+C (⌘C on a Mac) to copy it");
    }
  });
  field.addEventListener("blur", () => { field.hidden = true; });
}
