// Validate PodMonitor documents (a JSON list, path in argv[2]) against the schema of the
// Prometheus Operator's CRD, as compiled by @kubernetes-models/prometheus-operator.
// Prints one line per document: "ok NAME" or "invalid NAME: errors"; exit 1 if any is invalid.
import { readFileSync } from "node:fs";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";

const documents = JSON.parse(readFileSync(process.argv[2], "utf8"));
let invalid = 0;
for (const document of documents) {
  const name = document?.metadata?.name ?? "(unnamed)";
  try {
    new PodMonitor(document).validate();
    console.log(`ok ${name}`);
  } catch (error) {
    invalid += 1;
    console.log(`invalid ${name}: ${error.message}`);
  }
}
process.exit(invalid ? 1 : 0);
