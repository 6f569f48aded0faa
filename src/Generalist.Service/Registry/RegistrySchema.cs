using Microsoft.Data.Sqlite;

namespace Generalist.Service.Registry;

/// <summary>
/// The registry's schema, versioned through SQLite's user_version: each entry of
/// <see cref="Migrations"/> moves the file one version up, inside a transaction.
/// </summary>
internal static class RegistrySchema
{
    public static readonly string[] Migrations =
    [
        // 1: runs with their configs and state history, checkpoints, evaluations, studies.
        """
        CREATE TABLE runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL,
            config_json TEXT NOT NULL,
            step INTEGER NOT NULL DEFAULT 0,
            total_steps INTEGER NOT NULL,
            loss REAL,
            tokens_per_second REAL NOT NULL DEFAULT 0,
            tokens_seen INTEGER NOT NULL DEFAULT 0,
            last_checkpoint TEXT,
            failure_reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            create_time INTEGER NOT NULL,
            update_time INTEGER NOT NULL,
            start_time INTEGER,
            end_time INTEGER
        );
        CREATE INDEX runs_state ON runs(state);
        CREATE TABLE state_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT,
            time INTEGER NOT NULL
        );
        CREATE INDEX state_history_name ON state_history(kind, name);
        CREATE TABLE checkpoints (
            run TEXT NOT NULL REFERENCES runs(name),
            step INTEGER NOT NULL,
            path TEXT NOT NULL,
            create_time INTEGER NOT NULL,
            PRIMARY KEY (run, step)
        );
        CREATE TABLE evaluations (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL,
            checkpoint TEXT NOT NULL,
            suite TEXT NOT NULL,
            episodes INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            result_json TEXT,
            failure_reason TEXT,
            progress_task TEXT,
            progress_done INTEGER NOT NULL DEFAULT 0,
            progress_total INTEGER NOT NULL DEFAULT 0,
            create_time INTEGER NOT NULL,
            update_time INTEGER NOT NULL
        );
        CREATE TABLE studies (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            config_path TEXT NOT NULL,
            output_directory TEXT NOT NULL,
            result_json TEXT,
            failure_reason TEXT,
            progress_stage TEXT,
            progress_done INTEGER NOT NULL DEFAULT 0,
            progress_total INTEGER NOT NULL DEFAULT 0,
            create_time INTEGER NOT NULL,
            update_time INTEGER NOT NULL
        );
        """,
    ];

    public static int CurrentVersion => Migrations.Length;

    public static void Migrate(SqliteConnection connection, string path)
    {
        using (var wal = connection.CreateCommand())
        {
            // WAL: readers never block the writer, and a killed process leaves a consistent file.
            wal.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
            wal.ExecuteNonQuery();
        }
        var version = UserVersion(connection);
        if (version > CurrentVersion)
            throw new InvalidDataException($"{path}: registry schema version {version} is newer than this build understands ({CurrentVersion}); use a newer generalist");
        for (var v = version; v < CurrentVersion; v++)
        {
            using var tx = connection.BeginTransaction();
            using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = Migrations[v] + $"\nPRAGMA user_version = {v + 1};";
            cmd.ExecuteNonQuery();
            tx.Commit();
        }
    }

    public static int UserVersion(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(cmd.ExecuteScalar());
    }
}
