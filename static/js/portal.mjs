// Progressive enhancement only: every page works without this file.
import { initAll as initGovUk } from "/assets/vendor/govuk-frontend.min.js";
import { initAll as initMoj } from "/assets/vendor/moj-frontend.min.js";

initGovUk();
initMoj();
