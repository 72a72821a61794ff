// The login form: POST /api/login, then the console; the server's refusal is shown as given.

const form = document.querySelector("#login-form");
const error = document.querySelector("#login-error");

const reason = sessionStorage.getItem("padctl-logout-reason");
if (reason) {
  error.textContent = `Session ended: ${reason}`;
  sessionStorage.removeItem("padctl-logout-reason");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        username: form.username.value.trim(),
        password: form.password.value,
      }),
    });
    if (response.ok) {
      location.replace("./");
      return;
    }
    let text = `login refused (HTTP ${response.status})`;
    try {
      const body = await response.json();
      if (body.error) text = body.error;
    } catch {
      // keep the status text
    }
    error.textContent = text;
    form.password.value = "";
    form.password.focus();
  } catch (failure) {
    error.textContent = `cannot reach the server: ${failure.message}`;
  } finally {
    button.disabled = false;
  }
});
