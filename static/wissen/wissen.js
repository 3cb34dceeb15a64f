// The erasure page (/wissen): the young person's code goes to POST /api/erase; the answer is
// told in plain Dutch. Nothing is kept in the browser, and "Snel weg" leaves at once.

const form = document.querySelector("#erase-form");
const input = document.querySelector("#code");
const button = document.querySelector("#erase-button");
const result = document.querySelector("#result");
const quickExit = document.querySelector("#quick-exit");

function show(title, lines = []) {
  result.replaceChildren();
  const heading = document.createElement("p");
  heading.className = "result__title";
  heading.textContent = title;
  result.append(heading);
  if (lines.length) {
    const list = document.createElement("ul");
    for (const line of lines) {
      const item = document.createElement("li");
      item.textContent = line;
      list.append(item);
    }
    result.append(list);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const reference = input.value.trim();
  if (!reference) {
    show("Vul eerst je code in.");
    input.focus();
    return;
  }
  button.disabled = true;
  show("Bezig met wissen…");
  try {
    const response = await fetch("/api/erase", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ reference }),
      credentials: "omit",
      cache: "no-store",
    });
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      input.value = "";
      show("Je gesprek is gewist. Dit blijft wel bestaan:", data.not_erased || []);
    } else {
      show(data.error?.message || "Dat lukte niet. Probeer het later nog eens.");
    }
  } catch {
    show("Geen verbinding met de server. Probeer het later nog eens.");
  } finally {
    button.disabled = false;
  }
});

quickExit.addEventListener("click", () => {
  window.location.replace(quickExit.dataset.href || "https://www.google.nl/");
});
