using Generalist.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;
using Generalist.RunFormat;

namespace Generalist.Training.Tests;

public class AdamWDecayTests
{
    /// <summary>
    /// With zero gradients the moments stay 0, so a step moves a parameter only by its decay:
    /// p *= 1 - lr * wd for decayed 2-D weights, unchanged otherwise.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_token_embedding_decays_unless_exempt_and_other_matrices_always_do(bool decayTokenEmbedding)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var embedding = new TorchSharp.Modules.Parameter(randn(6, 4));
        var matrix = new TorchSharp.Modules.Parameter(randn(4, 4));
        var bias = new TorchSharp.Modules.Parameter(randn(4));
        var before = new[] { embedding, matrix, bias }.Select(p => p.detach().clone()).ToArray();
        var options = new AdamWOptions(WeightDecay: 0.5, DecayTokenEmbedding: decayTokenEmbedding);
        using var adamw = new AdamW([(AdamWOptions.TokenEmbedding, embedding), ("blocks.0.attn.proj.weight", matrix), ("final_norm.bias", bias)], options);
        adamw.Step(0.1, zeros(Array.Empty<long>(), ScalarType.Float32));

        Assert.True(allclose(matrix, before[1] * 0.95), "a 2-D weight decays by 1 - lr * wd");
        Assert.True(allclose(bias, before[2]), "a vector never decays");
        Assert.True(allclose(embedding, decayTokenEmbedding ? before[0] * 0.95 : before[0]),
            decayTokenEmbedding ? "the token embedding decays by default" : "decay_token_embedding false exempts the token embedding");
        Assert.Equal(decayTokenEmbedding, options.Decays(AdamWOptions.TokenEmbedding, embedding));
    }

    [Fact]
    public void The_run_config_field_reaches_the_optimizer_and_defaults_to_decaying()
    {
        Assert.True(AdamWOptions.From(new OptimizerConfig()).DecayTokenEmbedding);
        var config = RunConfig.Parse("""{"optimizer": {"decay_token_embedding": false}}""");
        Assert.False(AdamWOptions.From(config.Optimizer).DecayTokenEmbedding);
    }
}
