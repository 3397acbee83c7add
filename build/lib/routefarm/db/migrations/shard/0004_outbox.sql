-- The transactional outbox: every change of a job's status writes one row here, in the
-- same transaction as the change (a trigger, so no code path can forget it). The relay
-- publishes unsent rows to Kafka in id order and marks them sent.
--
-- Order per job: two changes of one job are serialized by the row lock on the job, and the
-- second one's outbox id is drawn after the first one committed, so ids follow the job.

CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid NOT NULL DEFAULT gen_random_uuid(),  -- the published event's id, kept on re-sends
    client_id   text NOT NULL,
    job_id      uuid NOT NULL,
    type        text NOT NULL,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_client ON outbox (client_id) WHERE sent_at IS NULL;

CREATE FUNCTION job_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- rows copied by a shard move are not new changes: their events were written already
    IF current_setting('routefarm.copying_rows', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
        RETURN NULL;
    END IF;
    INSERT INTO outbox (client_id, job_id, type, data)
    VALUES (NEW.client_id, NEW.id, 'routefarm.job.' || NEW.status, jsonb_strip_nulls(jsonb_build_object(
        'job_id', NEW.id,
        'client_id', NEW.client_id,
        'status', NEW.status,
        'previous_status', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
        'attempt', NEW.attempts,
        'batch_id', NEW.batch_id,
        'metadata', NEW.metadata,
        'deduplicated_from', NEW.deduplicated_from,
        'created_at', NEW.created_at,
        'started_at', NEW.started_at,
        'finished_at', NEW.finished_at,
        'error', NEW.error,
        'solution_status', NEW.solution ->> 'status',
        'summary', NEW.solution -> 'summary')));
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_outbox AFTER INSERT OR UPDATE OF status ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_event();
