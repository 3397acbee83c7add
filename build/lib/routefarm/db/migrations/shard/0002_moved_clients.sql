-- clients moved away from this shard: a late insert for one of them is refused, and the
-- writer retries on the shard the directory now names
CREATE TABLE moved_clients (
    client_id  text PRIMARY KEY,
    moved_to   text NOT NULL,
    moved_at   timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION refuse_moved_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM moved_clients WHERE client_id = NEW.client_id) THEN
        RAISE EXCEPTION 'client % has moved to another shard', NEW.client_id
            USING ERRCODE = 'RF001';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER jobs_refuse_moved_client BEFORE INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION refuse_moved_client();
