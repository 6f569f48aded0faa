namespace Generalist.Packing;

/// <summary>
/// A batch of packed sequences, the only thing the model consumes. All arrays are row-major
/// (BatchSize, ContextLength) unless noted. Position t predicts the token at t + 1:
/// Targets[b, t] is that token and LossMask[b, t] is 1 exactly when that position's loss flag is set
/// (<see cref="TokenizedEpisode.LossFlags"/>: text tokens, the action tokens of scored timesteps,
/// the end of episode after a final text timestep; never an image patch, observation value,
/// separator or padding).
/// Patch positions carry Pad in Tokens and an index into Patches in PatchIndex.
/// </summary>
public sealed record PackedBatch(
    int BatchSize,
    int ContextLength,
    long[] Tokens,          // (B, L) token ids; Pad at patch and padding positions
    long[] Targets,         // (B, L) the next token (Pad where there is none)
    float[] LossMask,       // (B, L) 1 where Targets counts toward the loss
    long[] LocalPositions,  // (B, L) 0..n-1 within a timestep's observation; action tokens share one index
    long[] TaskIds,         // (B, L) index into TaskNames of the task the target belongs to
    long[] PatchIndex,      // (B, L) -1, or the row in Patches of the patch at this position
    float[] Patches,        // (NumPatches, Channels * PatchSize * PatchSize), normalized pixels in (channel, row, column) order
    long[] PatchRows,       // (NumPatches) the patch's row within its image
    long[] PatchCols,       // (NumPatches) the patch's column within its image
    int NumPatches,
    int PatchSize,
    int Channels,
    IReadOnlyList<string> TaskNames)
{
    public int TokenCount => BatchSize * ContextLength;
}
