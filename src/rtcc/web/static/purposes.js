// The managed purpose list (NCIC offense categories and the agency's own): every search, export and share names
// one. Fetched once per page and offered in each form's category menu.
import { api, element } from "/static/console-state.js";

let purposes = null;

export async function fillPurposes(select) {
  if (select.dataset.filled) return;
  purposes = purposes || api("/api/v1/policy/purposes").catch((error) => { purposes = null; throw error; });
  for (const purpose of await purposes) {
    select.append(element("option", { value: purpose.code, text: `${purpose.code} ${purpose.title}` }));
  }
  select.dataset.filled = "yes";
}
