// The answer form: focus on what to fix when it comes back, and files over their limit caught
// before they are sent, so nobody waits for an upload that would be refused (the form service
// checks every limit again; without JavaScript the server says it).
const form = document.querySelector("form[data-max-total]");

function flag(input, text) {
  const message = document.createElement("p");
  message.className = "ap-error-message";
  message.id = `${input.id}-taille`;
  message.dataset.client = "";
  message.textContent = text;
  input.before(message);
  input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${message.id}`.trim());
  input.setAttribute("aria-invalid", "true");
}

// A form that came back with errors: bring the person (and their screen reader) to what to fix.
const problem = document.querySelector(".ap-notice[role=alert], .ap-error-summary");
if (problem) problem.focus();

if (form) {
  form.addEventListener("submit", (event) => {
    for (const old of form.querySelectorAll("[data-client]")) {
      const input = document.getElementById(old.id.replace(/-taille$/, ""));
      input.setAttribute("aria-describedby", input.getAttribute("aria-describedby").replace(old.id, "").trim());
      input.removeAttribute("aria-invalid");
      old.remove();
    }
    const inputs = [...form.querySelectorAll("input[type=file][data-max-bytes]")].filter((i) => i.files.length);
    const tooBig = inputs.filter((i) => i.files[0].size > Number(i.dataset.maxBytes));
    for (const input of tooBig) {
      flag(input, `Le fichier dépasse ${input.dataset.maxLabel} : réduisez-le (par exemple en compressant les images).`);
    }
    const total = inputs.reduce((sum, i) => sum + i.files[0].size, 0);
    if (!tooBig.length && total > Number(form.dataset.maxTotal)) {
      tooBig.push(inputs[0]);
      flag(inputs[0], `Les fichiers dépassent ensemble ${form.dataset.maxTotalLabel} : allégez-les.`);
    }
    if (tooBig.length) {
      event.preventDefault();
      tooBig[0].focus();
    }
  });
}
