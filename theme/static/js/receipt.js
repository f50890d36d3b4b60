// A button to print the receipt (or save it as PDF) where a script can call the browser's printing;
// without JavaScript, the page says to use the browser's own "Imprimer".
const button = document.querySelector("button.ap-print");
if (button) {
  button.classList.add("is-ready");
  button.addEventListener("click", () => window.print());
}
