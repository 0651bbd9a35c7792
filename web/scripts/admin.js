// Admin console: asks before an action that cannot be undone (forms with
// data-confirm). Every form works without this script; it only adds the question.
document.addEventListener("submit", (event) => {
	const form = event.target;
	if (!(form instanceof HTMLFormElement)) return;
	const question = form.dataset.confirm;
	if (question && !window.confirm(question)) event.preventDefault();
});
