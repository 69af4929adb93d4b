// Decodes GPP and US Privacy strings with the IAB's own library, for the Python tests.
// stdin: a JSON array of {"gpp": "..."} or {"usprivacy": "..."}; stdout: a JSON array of
// {"sectionIds": [...], "sections": {name: fields}} or {"uspv1": fields}, or {"error": "..."}.
"use strict";
const { GppModel } = require("@iabgpp/cmpapi");

function decode(item) {
  try {
    if (typeof item.gpp === "string") {
      const model = new GppModel(item.gpp);
      const ids = model.getSectionIds();
      const sections = model.toObject();
      return { sectionIds: ids, sections: sections, header: model.getHeader(), reencoded: model.encode() };
    }
    const model = new GppModel();
    model.decodeSection("uspv1", item.usprivacy);
    return { uspv1: model.getSection("uspv1") };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map(decode)));
});
