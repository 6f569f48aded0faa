using Generalist.Service.Kernel;
using Microsoft.Data.Sqlite;

namespace Generalist.Service.Registry;

public sealed partial class RunRegistry
{
    private const string RunColumns =
        "seq, name, state, config_json, step, total_steps, loss, tokens_per_second, tokens_seen, last_checkpoint, failure_reason, attempts, create_time, update_time, start_time, end_time";

    /// <summary>Inserts a queued run; throws <see cref="DuplicateNameException"/> when the name is taken.</summary>
    public RunRecord InsertRun(string name, string configJson, long totalSteps)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            try
            {
                Execute("INSERT INTO runs(name, state, config_json, total_steps, create_time, update_time) VALUES (@n, 'queued', @c, @t, @now, @now)", tx,
                    ("@n", name), ("@c", configJson), ("@t", totalSteps), ("@now", Now()));
            }
            catch (SqliteException e) when (IsUniqueViolation(e))
            {
                throw new DuplicateNameException("run", name);
            }
            AddHistory(tx, "runs", name, JobState.Queued, "created");
            tx.Commit();
        }
        return GetRun(name)!;
    }

    public RunRecord? GetRun(string name)
    {
        lock (_gate)
        {
            using var cmd = Command($"SELECT {RunColumns} FROM runs WHERE name=@n", null, ("@n", name));
            using var r = cmd.ExecuteReader();
            return r.Read() ? ReadRun(r) : null;
        }
    }

    /// <summary>Runs in creation order after <paramref name="afterSequence"/>; fetches one extra to tell whether more follow.</summary>
    public IReadOnlyList<RunRecord> ListRuns(long afterSequence, int limit, JobState? state, string? namePrefix)
    {
        lock (_gate)
        {
            var sql = $"SELECT {RunColumns} FROM runs WHERE seq > @after";
            if (state is { } s) sql += " AND state = @state";
            // substr instead of LIKE: no wildcard escaping to get wrong.
            if (!string.IsNullOrEmpty(namePrefix)) sql += " AND substr(name, 1, length(@prefix)) = @prefix";
            sql += " ORDER BY seq LIMIT @limit";
            using var cmd = Command(sql, null, ("@after", afterSequence), ("@limit", limit),
                ("@state", state is { } st ? JobStates.ToText(st) : null), ("@prefix", namePrefix));
            using var r = cmd.ExecuteReader();
            var list = new List<RunRecord>();
            while (r.Read()) list.Add(ReadRun(r));
            return list;
        }
    }

    public IReadOnlyList<RunRecord> RunsInState(JobState state) => ListRuns(0, int.MaxValue, state, null);

    public int CountRuns()
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT count(*) FROM runs", null);
            return Convert.ToInt32(cmd.ExecuteScalar());
        }
    }

    /// <summary>Moves a run to a new state and records the transition.</summary>
    public RunRecord SetRunState(string name, JobState state, string? reason, bool started = false, bool ended = false)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            var now = Now();
            var sql = "UPDATE runs SET state=@s, update_time=@now";
            if (state is JobState.Failed or JobState.Interrupted) sql += ", failure_reason=@r";
            if (state is JobState.Queued or JobState.Running) sql += ", failure_reason=NULL";
            if (started) sql += ", start_time=@now, end_time=NULL, attempts=attempts+1";
            if (ended) sql += ", end_time=@now";
            sql += " WHERE name=@n";
            if (Execute(sql, tx, ("@s", JobStates.ToText(state)), ("@now", now), ("@r", reason), ("@n", name)) == 0)
                throw new KeyNotFoundException($"run '{name}' is not in the registry");
            AddHistory(tx, "runs", name, state, reason);
            tx.Commit();
        }
        return GetRun(name)!;
    }

    public void UpdateRunProgress(string name, long step, double loss, double tokensPerSecond, long tokensSeen)
    {
        lock (_gate)
            Execute("UPDATE runs SET step=@step, loss=@loss, tokens_per_second=@tps, tokens_seen=@tok, update_time=@now WHERE name=@n", null,
                ("@step", step), ("@loss", double.IsFinite(loss) ? loss : null), ("@tps", tokensPerSecond), ("@tok", tokensSeen), ("@now", Now()), ("@n", name));
    }

    /// <summary>Records a complete checkpoint (path relative to the data root) and makes it the run's newest.</summary>
    public void AddCheckpoint(string run, long step, string relativePath)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            Execute("INSERT INTO checkpoints(run, step, path, create_time) VALUES (@r, @s, @p, @now) ON CONFLICT(run, step) DO UPDATE SET path=excluded.path, create_time=excluded.create_time", tx,
                ("@r", run), ("@s", step), ("@p", relativePath), ("@now", Now()));
            Execute("UPDATE runs SET last_checkpoint=@p, update_time=@now WHERE name=@r AND (last_checkpoint IS NULL OR @s >= (SELECT coalesce(max(step), 0) FROM checkpoints WHERE run=@r))", tx,
                ("@p", relativePath), ("@now", Now()), ("@r", run), ("@s", step));
            tx.Commit();
        }
    }

    public IReadOnlyList<CheckpointRecord> ListCheckpoints(string run)
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT run, step, path, create_time FROM checkpoints WHERE run=@r ORDER BY step", null, ("@r", run));
            using var r = cmd.ExecuteReader();
            var list = new List<CheckpointRecord>();
            while (r.Read()) list.Add(new(r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetInt64(3)));
            return list;
        }
    }

    private static RunRecord ReadRun(SqliteDataReader r) => new(
        r.GetInt64(0), r.GetString(1), JobStates.FromText(r.GetString(2)), r.GetString(3), r.GetInt64(4), r.GetInt64(5),
        r.IsDBNull(6) ? null : r.GetDouble(6), r.GetDouble(7), r.GetInt64(8), NullableString(r, 9), NullableString(r, 10),
        r.GetInt32(11), r.GetInt64(12), r.GetInt64(13), NullableLong(r, 14), NullableLong(r, 15));
}
