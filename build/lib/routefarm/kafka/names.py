"""The topics and the consumer group the farm uses; the KEDA ScaledObject names the same."""

REOPTIMIZE_TOPIC = "routefarm.reoptimize"  # in: re-optimization requests, key = client id
DLQ_TOPIC = "routefarm.reoptimize.dlq"  # malformed or invalid requests, with the error
JOB_EVENTS_TOPIC = "routefarm.job-events"  # out: job lifecycle events, key = client id
INGEST_GROUP = "routefarm-ingest"

TOPICS = (REOPTIMIZE_TOPIC, DLQ_TOPIC, JOB_EVENTS_TOPIC)
