using Generalist.Service.Kernel;
using Microsoft.Data.Sqlite;

namespace Generalist.Service.Registry;

/// <summary>
/// The run registry: one SQLite file (registry.db, WAL) under the data root holding runs, their
/// configs and state history, checkpoints, evaluations and studies. One connection guarded by a
/// lock: every statement is short, and a single writer is what SQLite wants anyway.
/// </summary>
public sealed partial class RunRegistry : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();
    private readonly TimeProvider _clock;

    public RunRegistry(DataLayout layout, TimeProvider clock)
    {
        _clock = clock;
        Path = layout.RegistryPath;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
        _db.Open();
        RegistrySchema.Migrate(_db, Path);
    }

    public string Path { get; }

    public long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    public int SchemaVersion()
    {
        lock (_gate) return RegistrySchema.UserVersion(_db);
    }

    /// <summary>
    /// After a restart (clean or kill -9): whatever was running or stopping can no longer be, so it
    /// becomes interrupted (runs can be resumed from their last checkpoint). Returns the names touched.
    /// </summary>
    public IReadOnlyList<(string Kind, string Name)> MarkInterruptedAfterRestart(string reason)
    {
        lock (_gate)
        {
            var touched = new List<(string, string)>();
            using var tx = _db.BeginTransaction();
            foreach (var table in new[] { "runs", "evaluations", "studies" })
            {
                var names = new List<string>();
                using (var select = Command($"SELECT name FROM {table} WHERE state IN ('running','cancelling')", tx))
                using (var r = select.ExecuteReader())
                    while (r.Read()) names.Add(r.GetString(0));
                foreach (var name in names)
                {
                    Execute($"UPDATE {table} SET state='interrupted', update_time=@now, failure_reason=@reason WHERE name=@name", tx,
                        ("@now", Now()), ("@reason", reason), ("@name", name));
                    AddHistory(tx, table, name, JobState.Interrupted, reason);
                    touched.Add((table, name));
                }
            }
            tx.Commit();
            return touched;
        }
    }

    public IReadOnlyList<StateRecord> StateHistory(string kind, string name)
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT kind, name, state, reason, time FROM state_history WHERE kind=@k AND name=@n ORDER BY id", null, ("@k", kind), ("@n", name));
            using var r = cmd.ExecuteReader();
            var list = new List<StateRecord>();
            while (r.Read()) list.Add(new(r.GetString(0), r.GetString(1), JobStates.FromText(r.GetString(2)), r.IsDBNull(3) ? null : r.GetString(3), r.GetInt64(4)));
            return list;
        }
    }

    /// <summary>SELECT 1 through the same connection: the health check.</summary>
    public bool Ping()
    {
        lock (_gate)
        {
            using var cmd = Command("SELECT 1", null);
            return Convert.ToInt32(cmd.ExecuteScalar()) == 1;
        }
    }

    public void Dispose()
    {
        lock (_gate) _db.Dispose();
    }

    private void AddHistory(SqliteTransaction? tx, string kind, string name, JobState state, string? reason) =>
        Execute("INSERT INTO state_history(kind, name, state, reason, time) VALUES (@k, @n, @s, @r, @t)", tx,
            ("@k", kind), ("@n", name), ("@s", JobStates.ToText(state)), ("@r", reason), ("@t", Now()));

    private SqliteCommand Command(string sql, SqliteTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (n, v) in parameters) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return cmd;
    }

    private int Execute(string sql, SqliteTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return cmd.ExecuteNonQuery();
    }

    private static bool IsUniqueViolation(SqliteException e) => e.SqliteErrorCode == 19 && e.Message.Contains("UNIQUE");

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static long? NullableLong(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}
