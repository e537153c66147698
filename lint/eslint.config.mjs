// ESLint for the dashboard's script in static/ (`make lint`, and pre-commit).
//
// The page loads static/dashboard.js as a module (<script type="module">), which imports its
// parts from static/dashboard/: ES modules without a build step, with the browser's globals and
// no others. ESLint's recommended rules, and a few that
// keep a small script without a build step honest: strict equality, no `var`, const where a
// binding never changes, and a function that returns a value on every path or on none.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    files: ["static/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      ...js.configs.recommended.rules,
      "consistent-return": "error",
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
    },
  },
];
