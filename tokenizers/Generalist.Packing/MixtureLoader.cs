using System.Globalization;
using System.Text;
using Generalist.Episodes;
using Generalist.Tokenizers;

namespace Generalist.Packing;

/// <summary>
/// The training data loader: batches of packed rows mixing tasks by weight (tokenizers/README.md,
/// "Loader"). Row r of batch k is a pure function of (seed, k, r): its own SplitMix64 stream picks
/// the task (by weight), the episode and start unit, and whether and how the row is prompted.
/// A row holds one task; it is filled with whole units of consecutive episodes until the next
/// unit does not fit, then padded. Not thread-safe.
/// </summary>
public sealed class MixtureLoader
{
    /// <summary>A demonstration prompt takes at most this fraction of the context.</summary>
    public const double PromptBudgetFraction = 0.5;
    /// <summary>Default budget of the tokenized-episode cache.</summary>
    public const long DefaultCacheBytes = 256L << 20;

    private readonly IReadOnlyList<TaskStream> _tasks;
    private readonly LoaderOptions _options;
    private readonly VocabularyLayout _vocab;
    private readonly SequenceBuilder _builder;
    private readonly double[] _cumulativeWeights;
    private readonly string[] _taskNames;
    private readonly TokenizedEpisodeCache _cache;
    private readonly string _fingerprint;
    private long _nextBatch;

    public MixtureLoader(IReadOnlyList<TaskStream> tasks, LoaderOptions options, VocabularyLayout vocab)
        : this(tasks, options, vocab, DefaultCacheBytes, null) { }

    public MixtureLoader(IReadOnlyList<TaskStream> tasks, LoaderOptions options, VocabularyLayout vocab, long cacheBytes, TextTokenizer? text = null)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(vocab);
        options.Validate();
        if (tasks.Count == 0) throw new ArgumentException("tasks must hold at least one task");
        var names = new HashSet<string>(StringComparer.Ordinal);
        _cumulativeWeights = new double[tasks.Count];
        var total = 0.0;
        for (var i = 0; i < tasks.Count; i++)
        {
            var t = tasks[i] ?? throw new ArgumentException($"tasks[{i}] must not be null");
            if (string.IsNullOrWhiteSpace(t.Name)) throw new ArgumentException($"tasks[{i}].name must not be empty");
            if (!names.Add(t.Name)) throw new ArgumentException($"tasks[{i}].name '{t.Name}' appears twice");
            if (!(t.Weight > 0) || double.IsInfinity(t.Weight)) throw new ArgumentException($"tasks[{i}].weight must be a positive finite number (got {t.Weight})");
            if (t.Episodes is null || t.Episodes.Count <= 0) throw new ArgumentException($"tasks[{i}].episodes of '{t.Name}' must hold at least one episode");
            total += t.Weight;
            _cumulativeWeights[i] = total;
        }
        for (var i = 0; i < tasks.Count; i++) _cumulativeWeights[i] /= total;
        _tasks = tasks;
        _options = options;
        _vocab = vocab;
        _builder = new SequenceBuilder(vocab, options.ContextLength, options.PatchSize, text);
        _taskNames = tasks.Select(t => t.Name).ToArray();
        _cache = new TokenizedEpisodeCache(cacheBytes);
        _fingerprint = Fingerprint(tasks, options);
    }

    public IReadOnlyList<string> TaskNames => _taskNames;
    public LoaderOptions Options => _options;
    public SequenceBuilder Builder => _builder;

    public LoaderCursor Cursor => new(_options.Seed, _nextBatch, _fingerprint);

    /// <summary>Continues from a saved cursor; it must come from a loader with the same configuration.</summary>
    public void Restore(LoaderCursor cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        if (cursor.Seed != _options.Seed) throw new ArgumentException($"cursor.seed {cursor.Seed} differs from the loader's seed {_options.Seed}");
        if (cursor.NextBatch < 0) throw new ArgumentException($"cursor.next_batch must be >= 0 (got {cursor.NextBatch})");
        if (cursor.Fingerprint != _fingerprint)
            throw new ArgumentException($"cursor.fingerprint does not match this loader's configuration (saved '{cursor.Fingerprint}', now '{_fingerprint}')");
        _nextBatch = cursor.NextBatch;
    }

    public PackedBatch Next()
    {
        var batch = BuildBatch(_nextBatch);
        _nextBatch++;
        return batch;
    }

    /// <summary>Batch number k without moving the cursor.</summary>
    public PackedBatch BuildBatch(long batchNumber) => BuildRows(batchNumber, 0, _options.BatchSize);

    /// <summary>
    /// Rows [firstRow, firstRow + rowCount) of batch k as a batch of their own, equal to those rows
    /// of <see cref="BuildBatch"/> (each row is a pure function of (seed, k, row)). A data-parallel
    /// rank builds only its own rows this way. Does not move the cursor.
    /// </summary>
    public PackedBatch BuildRows(long batchNumber, int firstRow, int rowCount)
    {
        if (firstRow < 0 || rowCount < 1 || firstRow + rowCount > _options.BatchSize)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows [{firstRow}, {firstRow + rowCount}) are outside the batch's {_options.BatchSize} rows");
        var packer = new PackedBatchBuilder(rowCount, _options.ContextLength, _options.PatchSize, _vocab, _taskNames, tracksKinds: _options.ActionHistoryDropout > 0);
        for (var i = 0; i < rowCount; i++)
        {
            var task = FillRow(packer, i, SplitMix64.For(_options.Seed, batchNumber, firstRow + i), batchNumber / _options.BatchesPerStep);
            if (_options.ActionHistoryDropout > 0 && _tasks[task].Episodes.Family == TaskFamily.Control)
            {
                // Its own stream: with the option off, every row is what it was without it.
                var hide = SplitMix64.For(~_options.Seed, batchNumber, firstRow + i);
                packer.HideActionHistory(i, _options.ActionHistoryDropout, ref hide);
            }
        }
        return packer.Build();
    }

    /// <summary>Rows [firstRow, firstRow + rowCount) of the next batch (see <see cref="BuildRows"/>); moves the cursor by one batch like <see cref="Next"/>.</summary>
    public PackedBatch NextRows(int firstRow, int rowCount)
    {
        var batch = BuildRows(_nextBatch, firstRow, rowCount);
        _nextBatch++;
        return batch;
    }

    /// <summary>Fills one row; returns the task it holds.</summary>
    private int FillRow(PackedBatchBuilder packer, int row, SplitMix64 rng, long step)
    {
        var task = SampleTask(rng.NextDouble());
        var source = _tasks[task].Episodes;
        var count = source.Count;
        var length = _options.ContextLength;

        var episodeIndex = rng.NextInt(count);
        var episode = Tokenized(task, episodeIndex, step);
        var unit = rng.NextInt(episode.UnitCount);

        var prompted = source.Family == TaskFamily.Control && count > 1 && rng.NextDouble() < _options.PromptProbability;
        if (prompted)
        {
            var demoIndex = rng.NextInt(count - 1);
            if (demoIndex >= episodeIndex) demoIndex++;
            var demo = Tokenized(task, demoIndex, step);
            var budget = Math.Min((int)(length * PromptBudgetFraction), length - episode.UnitLength(unit));
            var fromEnd = rng.NextDouble() < 0.5;
            int first, units;
            if (fromEnd)
            {
                first = demo.FirstUnitOfSuffixFitting(0, demo.UnitCount, budget);
                units = demo.UnitCount - first;
            }
            else
            {
                first = rng.NextInt(demo.UnitCount);
                units = SequencePacker.UnitsFitting(demo, first, budget);
            }
            packer.TryAppend(row, demo, first, units);
        }

        // The main content: consecutive units from the start unit, then further episodes from
        // their beginning, until the next unit does not fit.
        while (true)
        {
            var units = SequencePacker.UnitsFitting(episode, unit, packer.Remaining(row));
            packer.TryAppend(row, episode, unit, units);
            if (unit + units < episode.UnitCount || packer.Remaining(row) == 0) return task;
            episode = Tokenized(task, rng.NextInt(count), step);
            unit = 0;
            if (episode.UnitLength(0) > packer.Remaining(row)) return task;
        }
    }

    private int SampleTask(double u)
    {
        for (var i = 0; i < _cumulativeWeights.Length - 1; i++)
            if (u < _cumulativeWeights[i]) return i;
        return _cumulativeWeights.Length - 1;
    }

    private TokenizedEpisode Tokenized(int task, int episode, long step)
    {
        // A curriculum's episodes depend on the step: generated on demand (cheap), never cached under the plain index.
        if (_tasks[task].Episodes is IStagedEpisodeSource { StageCount: > 1 } staged)
            return _builder.Build(staged.Get(episode, staged.StageAt(step)) ?? throw new InvalidOperationException($"task '{_taskNames[task]}': episode {episode} is null"), task);
        return Tokenized(task, episode);
    }

    private TokenizedEpisode Tokenized(int task, int episode) =>
        _cache.GetOrBuild(task, episode, (t, e) =>
        {
            var source = _tasks[t].Episodes;
            var ep = source.Get(e) ?? throw new InvalidOperationException($"task '{_taskNames[t]}': episode {e} is null");
            return _builder.Build(ep, t);
        });

    private static string Fingerprint(IReadOnlyList<TaskStream> tasks, LoaderOptions o)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"L={o.ContextLength};B={o.BatchSize};P={o.PatchSize};prompt={o.PromptProbability:R}");
        // Only when on, so cursors saved before the option existed stay valid.
        if (o.ActionHistoryDropout > 0) sb.Append(CultureInfo.InvariantCulture, $";hide={o.ActionHistoryDropout:R}");
        foreach (var t in tasks) sb.Append(CultureInfo.InvariantCulture, $";{t.Name}:{t.Weight:R}:{t.Episodes.Count}");
        return sb.ToString();
    }
}
