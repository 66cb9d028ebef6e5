import { ApiError, api, signIn } from "./api.js";
import { h } from "./dom.js";

export const title = "Sign in";

export function mount(main, _params, app) {
  const token = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", placeholder: "kg_…", size: 48 });
  const tenant = h("input", { id: "tenant", name: "tenant", type: "text", autocomplete: "off", placeholder: "optional", size: 24 });
  const message = h("p", { class: "error", id: "sign-in-error", role: "alert" });
  const form = h(
    "form",
    { class: "card sign-in", id: "sign-in" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "The console calls the gateway's API with this bearer token. It is kept in this tab only and forgotten when the tab closes. Leave it empty if the gateway runs open (KAFKAGATE_AUTH=off)."),
    h("label", { for: "token" }, "Bearer token"),
    token,
    h("label", { for: "tenant" }, "Act for tenant (X-Tenant-ID)"),
    tenant,
    h("div", {}, h("button", { type: "submit", id: "sign-in-submit" }, "Sign in")),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const credentials = { token: token.value.trim(), tenant: tenant.value.trim() };
    try {
      await api("GET", "/api/v1/streams", { query: { limit: 1 }, credentials });
    } catch (error) {
      // 403: a key without the admin scope can still tail and watch processors it may see.
      if (!(error instanceof ApiError) || error.status !== 403) {
        message.textContent = error.status === 401 ? "The gateway refused this token." : `Could not sign in: ${error.message}`;
        return;
      }
    }
    signIn(credentials.token, credentials.tenant);
    app.signedIn();
  });
  main.append(form);
  token.focus();
}
