/* Embeds the chat on a helpline's own site with one tag:
 *   <script src="https://chat.example.nl/static/embed.js" defer></script>
 * Optional attributes: data-label="Chat met ons", data-position="left".
 * Adds a launcher button; a click opens the chat (served from the same origin as this script)
 * in an iframe. The chat's `Snel weg` asks this page to leave too, with location.replace, and
 * its `Verbergen` button closes the panel again.
 * Styles are set through the CSSOM, never as inline style attributes or <style> text, so a
 * strict Content-Security-Policy on the host page (style-src without 'unsafe-inline') still
 * allows them. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__chatserverEmbed) return;
  window.__chatserverEmbed = true;

  var origin = new URL(script.src, document.baseURI).origin;
  var label = script.getAttribute("data-label") || "Chat met ons";
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";
  var open = false;
  var frame = null;
  var panel = null;

  function css(node, rules) {
    for (var key in rules) node.style.setProperty(key, rules[key]);
    return node;
  }

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.textContent = label;
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-haspopup", "dialog");
  css(launcher, {
    position: "fixed", bottom: "20px", [side]: "20px", "z-index": "2147483000",
    "min-height": "56px", padding: "0 24px", border: "0", "border-radius": "999px",
    background: "#0d6b66", color: "#ffffff", font: "600 17px/1.2 system-ui, sans-serif",
    "box-shadow": "0 4px 16px rgba(0,0,0,0.2)", cursor: "pointer",
  });

  function build() {
    panel = document.createElement("div");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", label);
    css(panel, {
      position: "fixed", bottom: "88px", [side]: "20px", "z-index": "2147483000",
      width: "min(400px, calc(100vw - 24px))", height: "min(680px, calc(100vh - 110px))",
      "border-radius": "18px", overflow: "hidden", background: "#fdf8f3",
      "box-shadow": "0 10px 40px rgba(0,0,0,0.25)",
    });
    frame = document.createElement("iframe");
    frame.src = origin + "/";
    frame.title = label;
    frame.setAttribute("allow", "clipboard-write");
    frame.setAttribute("referrerpolicy", "no-referrer");
    css(frame, { width: "100%", height: "100%", border: "0", display: "block" });
    // On a phone the chat covers the whole screen; the chat's own "Verbergen" closes it.
    if (window.matchMedia("(max-width: 480px)").matches) {
      css(panel, { top: "0", left: "0", right: "0", bottom: "0", width: "100vw", height: "100vh", "border-radius": "0" });
    }
    panel.appendChild(frame);
    document.body.appendChild(panel);
  }

  function toggle() {
    open = !open;
    if (!panel) build();
    css(panel, { display: open ? "block" : "none" });
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.textContent = open ? "Chat verbergen" : label;
    if (open) frame.focus();
  }

  launcher.addEventListener("click", toggle);

  // `Snel weg` inside the chat: leave this site too, without a way back.
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (data && data.type === "chatserver:hide" && open) toggle();
    if (data && data.type === "chatserver:quick-exit" && typeof data.href === "string" && /^https:\/\//.test(data.href)) {
      window.location.replace(data.href);
    }
  });

  function mount() { document.body.appendChild(launcher); }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
