using Generalist.Service.Kernel;
using Microsoft.Data.Sqlite;

namespace Generalist.Service.Registry;

/// <summary>Evaluations and studies: the same lifecycle as runs, without steps.</summary>
public sealed partial class RunRegistry
{
    private const string EvaluationColumns =
        "seq, name, state, checkpoint, suite, episodes, seed, result_json, failure_reason, progress_task, progress_done, progress_total, create_time, update_time";
    private const string StudyColumns =
        "seq, name, kind, state, config_path, output_directory, result_json, failure_reason, progress_stage, progress_done, progress_total, create_time, update_time";

    public EvaluationRecord InsertEvaluation(string name, string checkpoint, string suite, int episodes, long seed)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            try
            {
                Execute("INSERT INTO evaluations(name, state, checkpoint, suite, episodes, seed, create_time, update_time) VALUES (@n, 'queued', @c, @s, @e, @seed, @now, @now)", tx,
                    ("@n", name), ("@c", checkpoint), ("@s", suite), ("@e", episodes), ("@seed", seed), ("@now", Now()));
            }
            catch (SqliteException e) when (IsUniqueViolation(e))
            {
                throw new DuplicateNameException("evaluation", name);
            }
            AddHistory(tx, "evaluations", name, JobState.Queued, "created");
            tx.Commit();
        }
        return GetEvaluation(name)!;
    }

    public EvaluationRecord? GetEvaluation(string name)
    {
        lock (_gate)
        {
            using var cmd = Command($"SELECT {EvaluationColumns} FROM evaluations WHERE name=@n", null, ("@n", name));
            using var r = cmd.ExecuteReader();
            if (!r.Read()) return null;
            return new(r.GetInt64(0), r.GetString(1), JobStates.FromText(r.GetString(2)), r.GetString(3), r.GetString(4), r.GetInt32(5), r.GetInt64(6),
                NullableString(r, 7), NullableString(r, 8), NullableString(r, 9), r.GetInt32(10), r.GetInt32(11), r.GetInt64(12), r.GetInt64(13));
        }
    }

    public EvaluationRecord SetEvaluationState(string name, JobState state, string? reason, string? resultJson = null)
    {
        SetJobState("evaluations", name, state, reason, resultJson);
        return GetEvaluation(name)!;
    }

    public void UpdateEvaluationProgress(string name, string task, int done, int total)
    {
        lock (_gate)
            Execute("UPDATE evaluations SET progress_task=@t, progress_done=@d, progress_total=@tot, update_time=@now WHERE name=@n", null,
                ("@t", task), ("@d", done), ("@tot", total), ("@now", Now()), ("@n", name));
    }

    public StudyRecord InsertStudy(string name, string kind, string configPath, string outputDirectory)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            try
            {
                Execute("INSERT INTO studies(name, kind, state, config_path, output_directory, create_time, update_time) VALUES (@n, @k, 'queued', @c, @o, @now, @now)", tx,
                    ("@n", name), ("@k", kind), ("@c", configPath), ("@o", outputDirectory), ("@now", Now()));
            }
            catch (SqliteException e) when (IsUniqueViolation(e))
            {
                throw new DuplicateNameException("study", name);
            }
            AddHistory(tx, "studies", name, JobState.Queued, "created");
            tx.Commit();
        }
        return GetStudy(name)!;
    }

    public StudyRecord? GetStudy(string name)
    {
        lock (_gate)
        {
            using var cmd = Command($"SELECT {StudyColumns} FROM studies WHERE name=@n", null, ("@n", name));
            using var r = cmd.ExecuteReader();
            if (!r.Read()) return null;
            return new(r.GetInt64(0), r.GetString(1), r.GetString(2), JobStates.FromText(r.GetString(3)), r.GetString(4), r.GetString(5),
                NullableString(r, 6), NullableString(r, 7), NullableString(r, 8), r.GetInt32(9), r.GetInt32(10), r.GetInt64(11), r.GetInt64(12));
        }
    }

    public StudyRecord SetStudyState(string name, JobState state, string? reason, string? resultJson = null)
    {
        SetJobState("studies", name, state, reason, resultJson);
        return GetStudy(name)!;
    }

    public void UpdateStudyProgress(string name, string stage, int done, int total)
    {
        lock (_gate)
            Execute("UPDATE studies SET progress_stage=@s, progress_done=@d, progress_total=@t, update_time=@now WHERE name=@n", null,
                ("@s", stage), ("@d", done), ("@t", total), ("@now", Now()), ("@n", name));
    }

    private void SetJobState(string table, string name, JobState state, string? reason, string? resultJson)
    {
        lock (_gate)
        {
            using var tx = _db.BeginTransaction();
            var sql = $"UPDATE {table} SET state=@s, update_time=@now";
            if (state is JobState.Failed or JobState.Interrupted) sql += ", failure_reason=@r";
            if (resultJson is not null) sql += ", result_json=@res";
            sql += " WHERE name=@n";
            if (Execute(sql, tx, ("@s", JobStates.ToText(state)), ("@now", Now()), ("@r", reason), ("@res", resultJson), ("@n", name)) == 0)
                throw new KeyNotFoundException($"{table}: '{name}' is not in the registry");
            AddHistory(tx, table, name, state, reason);
            tx.Commit();
        }
    }
}
