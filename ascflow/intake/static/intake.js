// One submission per click: the button is disabled while the key is being checked.
document.getElementById("key-form").addEventListener("submit", function () {
  var button = document.getElementById("submit");
  button.disabled = true;
  button.textContent = "Checking your key with Apple…";
});
