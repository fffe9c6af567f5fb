// "Turn on notifications on this phone" (profile page): asks the person's permission,
// subscribes through the service worker (sw.js shows what arrives) and sends the
// subscription to the server, which pushes the news the person chose for "This phone".
(function () {
  "use strict";
  const box = document.getElementById("push");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  box.hidden = false;
  const button = box.querySelector("[data-push-on]");
  const status = box.querySelector("[data-push-status]");

  function applicationServerKey(base64url) {
    const padded = base64url + "=".repeat((4 - (base64url.length % 4)) % 4);
    const raw = atob(padded.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function keep(subscription) {
    const response = await fetch(box.dataset.pushUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    });
    if (!response.ok) throw new Error("the server answered " + response.status);
  }

  navigator.serviceWorker.ready
    .then((registration) => registration.pushManager.getSubscription())
    .then((subscription) => {
      if (subscription && Notification.permission === "granted") status.textContent = box.dataset.onText;
    })
    .catch(() => {});

  button.addEventListener("click", async () => {
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        status.textContent = box.dataset.deniedText;
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription =
        (await registration.pushManager.getSubscription()) ||
        (await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: applicationServerKey(box.dataset.pushKey),
        }));
      await keep(subscription);
      status.textContent = box.dataset.onText;
    } catch (error) {
      status.textContent = box.dataset.errorText;
    }
  });
})();
