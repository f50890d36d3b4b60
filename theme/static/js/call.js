// A static page is as fresh as its last build: past the deadline, the answer box says so at
// once, without waiting for the next build (the form service enforces the deadline anyway).
const box = document.querySelector("[data-closes]");
if (box && Date.now() >= Date.parse(box.dataset.closes)) {
  const notice = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = `Cet appel est clos depuis le ${box.dataset.closesText}.`;
  notice.append(strong, " Il n'est plus possible d'y répondre.");
  box.replaceChildren(box.querySelector("h2"), notice);
}

// Past `questions_until`, the question link gives way to a notice (the form service refuses anyway).
const ask = document.querySelector("[data-questions-until]");
if (ask && Date.now() >= Date.parse(ask.dataset.questionsUntil)) {
  const notice = document.createElement("p");
  notice.textContent = `Les questions étaient possibles jusqu'au ${ask.dataset.questionsUntilText}.`;
  ask.replaceChildren(notice);
}
