// The review page: reads the queue and sends decisions with the one-time
// secret from the URL fragment (never sent to the server in the URL, never
// stored beyond this tab). All texts are put in with textContent: a visitor's
// message can never become HTML here.
"use strict";

const TOKEN_KEY = "review-token";
let token = "";

function takeToken() {
  if (location.hash.length > 1) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice(1)));
    history.replaceState(null, "", location.pathname);
  }
  token = sessionStorage.getItem(TOKEN_KEY) || "";
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) {
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function say(text) {
  document.getElementById("melding").textContent = text;
}

async function api(path, body) {
  const options = { headers: { Authorization: "Bearer " + token } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.error || "Er ging iets mis (" + response.status + ").");
  }
  return data;
}

function showDecision(card, decision) {
  card.classList.add("klaar");
  for (const control of card.querySelectorAll("button, select, input")) {
    control.disabled = true;
  }
  card.append(el("p", { className: "besluit" }, decision.melding));
}

function renderGroup(group, topics) {
  const card = el("section", { className: "groep" });
  card.dataset.groep = group.id;
  card.append(
    el("h2", {}, "Groep " + group.id + " · " + group.aantal + "× gesteld"),
    el(
      "p",
      { className: "meta" },
      "Waarom: " + group.redenen.map((r) => r.label + " (" + r.aantal + ")").join(", ") +
        " · beantwoord als: " +
        (group.beantwoord_als.map((a) => a.titel + " (" + a.aantal + ")").join(", ") || "–") +
        " · " + group.eerst + " – " + group.laatst
    )
  );
  const list = el("ul", { className: "berichten" });
  for (const message of group.berichten) {
    const box = el("input", { type: "checkbox", checked: true, value: message.sleutel });
    list.append(
      el("li", {}, el("label", {}, box, " ", message.tekst, el("span", { className: "aantal" }, message.aantal + "×")))
    );
  }
  card.append(list);

  const actions = el("div", { className: "acties" });
  const decide = async (besluit, onderwerp) => {
    const sleutels = [...list.querySelectorAll("input:checked")].map((b) => b.value);
    try {
      const result = await api("/api/besluit", { groep: group.id, besluit, onderwerp, sleutels });
      showDecision(card, result);
      say("");
    } catch (error) {
      say(error.message);
    }
  };
  for (const candidate of group.kandidaten) {
    actions.append(
      el("button", {
        className: "kandidaat",
        title: candidate.onderwerp,
        onclick: () => decide("onderwerp", candidate.onderwerp),
      }, candidate.titel + " (" + candidate.zekerheid.toFixed(2).replace(".", ",") + ")")
    );
  }
  const select = el("select", { "aria-label": "ander onderwerp" },
    el("option", { value: "" }, "ander onderwerp …"));
  for (const topic of topics) {
    select.append(el("option", { value: topic.onderwerp }, topic.titel));
  }
  actions.append(
    select,
    el("button", {
      className: "toewijzen",
      onclick: () => select.value ? decide("onderwerp", select.value) : say("Kies eerst een onderwerp."),
    }, "Toewijzen"),
    el("button", { className: "buiten", onclick: () => decide("buiten_domein") }, "Buiten domein"),
    el("button", { className: "nieuw", onclick: () => decide("nieuw_onderwerp") }, "Nieuw onderwerp"),
    el("button", { className: "overslaan", onclick: () => decide("overslaan") }, "Overslaan")
  );
  card.append(actions);
  if (group.besluit) {
    showDecision(card, group.besluit);
  }
  return card;
}

async function load() {
  try {
    const queue = await api("/api/wachtrij");
    document.getElementById("kop").textContent =
      "Periode " + queue.periode + " · " + queue.bron + " · " + queue.groepen.length +
      " groepen · toegewezen berichten gaan naar " + queue.bestand;
    const container = document.getElementById("groepen");
    container.replaceChildren(...queue.groepen.map((g) => renderGroup(g, queue.onderwerpen)));
    if (!queue.groepen.length) {
      container.append(el("p", {}, "Niets te beoordelen."));
    }
  } catch (error) {
    document.getElementById("kop").textContent = error.message;
  }
}

takeToken();
load();
window.addEventListener("hashchange", () => {
  takeToken();
  load();
});
