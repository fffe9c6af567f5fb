// e-TMA page behaviour: the offline banner, keeping forms while offline and sending them
// once when the connection returns, location, input masks and upload progress.
(function () {
  "use strict";
  const OUTBOX = "ocsc-outbox";
  const banner = document.getElementById("offline-banner");

  function showConnection() {
    if (banner) banner.hidden = navigator.onLine;
  }
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function store(items) { localStorage.setItem(OUTBOX, JSON.stringify(items)); }
  function markWaiting() {
    const keys = new Set(outbox().map((item) => item.key));
    document.querySelectorAll("form[data-offline-key]").forEach((form) => {
      form.querySelectorAll(".waiting-to-send").forEach((note) => {
        note.hidden = !keys.has(form.dataset.offlineKey);
      });
    });
  }

  // A form marked data-offline-key is kept on the phone when submitted offline.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.offlineKey || navigator.onLine) return;
    event.preventDefault();
    const data = new FormData(form);
    if (event.submitter && event.submitter.name) data.set(event.submitter.name, event.submitter.value);
    const entries = [];
    for (const [name, value] of data.entries()) if (typeof value === "string") entries.push([name, value]);
    const items = outbox().filter((item) => item.key !== form.dataset.offlineKey);
    items.push({ key: form.dataset.offlineKey, action: form.action || location.href, entries: entries });
    store(items);
    markWaiting();
  });

  let sending = false;
  async function send() {
    if (sending || !navigator.onLine) return;
    sending = true;
    try {
      let items = outbox();
      while (items.length) {
        const item = items.shift();
        store(items);  // taken out before sending: it is sent once
        const body = new URLSearchParams();
        item.entries.forEach(([name, value]) => body.append(name, value));
        let response;
        try {
          response = await fetch(item.action, { method: "POST", body: body, credentials: "same-origin" });
        } catch (error) {
          store([item].concat(outbox()));  // still offline: keep it for the next try
          break;
        }
        if (response.redirected) { location.assign(response.url); return; }
        const html = await response.text();
        document.open(); document.write(html); document.close();
        return;
      }
    } finally {
      sending = false;
      markWaiting();
    }
  }

  window.addEventListener("online", () => { showConnection(); send(); });
  window.addEventListener("offline", showConnection);
  showConnection();
  markWaiting();
  send();

  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" });
  if (window.matchMedia && matchMedia("(display-mode: standalone)").matches) {
    document.querySelectorAll("[data-installed]").forEach((input) => { input.value = "1"; });
  }

  // "Use my current location" fills the hidden lat/lng of a location field.
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-locate]");
    if (!button || !navigator.geolocation) return;
    const key = button.dataset.locate;
    navigator.geolocation.getCurrentPosition((position) => {
      const lat = position.coords.latitude.toFixed(6), lng = position.coords.longitude.toFixed(6);
      document.querySelector(`[data-lat="${key}"]`).value = lat;
      document.querySelector(`[data-lng="${key}"]`).value = lng;
      document.querySelector(`[data-located="${key}"]`).textContent = `${lat}, ${lng}`;
    });
  });

  // Masks: CNIC as XXXXX-XXXXXXX-X, phone digits only.
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.dataset || !input.dataset.mask) return;
    const digits = input.value.replace(/\D/g, "");
    if (input.dataset.mask === "cnic") {
      const d = digits.slice(0, 13);
      input.value = [d.slice(0, 5), d.slice(5, 12), d.slice(12)].filter(Boolean).join("-");
    } else if (input.dataset.mask === "phone") {
      input.value = input.value.replace(/[^\d+\- ]/g, "");
    }
  });

  // Upload progress for documents sent as soon as they are chosen.
  document.addEventListener("htmx:xhr:progress", (event) => {
    const bar = event.target.parentElement && event.target.parentElement.querySelector(".upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
})();
