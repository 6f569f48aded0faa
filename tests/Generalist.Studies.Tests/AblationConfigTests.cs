using System.Text.Json.Nodes;
using Generalist.Studies.Ablation;
using Generalist.RunFormat;

namespace Generalist.Studies.Tests;

public class AblationConfigTests
{
    private const string Base = """{"preset":"ladder-0","steps":30,"tasks":[{"name":"cartpole"},{"name":"text"}]}""";

    private static string Study(string ablation) => $$"""{"name":"abl","base":{{Base}},"ablation":{{ablation}}}""";

    [Theory]
    [InlineData("""{"variants":[{"name":"a","overrides":{"model":{"value_embedding":"cubic"}}}]}""",
        "ablation.variants[0].overrides.model.value_embedding", "ablation.variants[0].overrides.model.value_embedding: must be \"fourier\" or \"none\"")]
    [InlineData("""{"variants":[{"name":"a"},{"name":"b","overrides":{"steps":0}}]}""",
        "ablation.variants[1].overrides.steps", "ablation.variants[1].overrides.steps: must be in [1, 10000000] (got 0)")]
    [InlineData("""{"variants":[{"name":"a","overrides":{"tasks":[{"name":"cartpole","weight":-1}]}}]}""",
        "ablation.variants[0].overrides.tasks[0].weight", "ablation.variants[0].overrides.tasks[0].weight: must be a finite number > 0")]
    [InlineData("""{"variants":[{"name":"a","overrides":{"optimizer":null}}]}""",
        "ablation.variants[0].overrides.optimizer", "ablation.variants[0].overrides.optimizer: must be an object, not null")]
    [InlineData("""{"variants":[{"name":"a","overrides":{"bogus":1}}]}""",
        "ablation.variants[0].overrides.bogus", "ablation.variants[0].overrides.bogus: not a run config field (the fields: ")]
    [InlineData("""{"variants":[{"name":"a","overrides":{"model":{"bogus":1}}}]}""",
        "ablation.variants[0].overrides.model.bogus", "s.json: ablation.variants[0].overrides.model.bogus: not a run config field (under model)")]
    [InlineData("""{"variants":[{"name":"a","overrides":{"seed":3}}]}""",
        "ablation.variants[0].overrides.seed", "ablation.variants[0].overrides.seed: cannot be overridden: the study sets it from ablation.seeds")]
    [InlineData("""{"variants":[{"name":"a","overrides":{"name":"x"}}]}""",
        "ablation.variants[0].overrides.name", "ablation.variants[0].overrides.name: cannot be overridden")]
    [InlineData("""{"variants":[{"name":"a"},{"name":"b"},{"name":"A"}]}""",
        "ablation.variants[2].name", "ablation.variants[2].name: 'A' is already the name of ablation.variants[0] (variant names must be unique")]
    [InlineData("""{"variants":[{"name":"+rope"}]}""",
        "ablation.variants[0].name", "ablation.variants[0].name: variant names must be 1-64 characters")]
    [InlineData("""{"variants":[{"overrides":{}}]}""",
        "ablation.variants[0].name", "ablation.variants[0].name: variant names must be")]
    [InlineData("""{"variants":[null]}""", "ablation.variants[0]", "ablation.variants[0]: must be an object")]
    [InlineData("""{"seeds":[]}""", "ablation.seeds", "ablation.seeds: must list at least one seed")]
    [InlineData("""{"seeds":[1,2,1]}""", "ablation.seeds", "ablation.seeds: seed 1 is listed twice")]
    [InlineData("""{"seeds":[-1]}""", "ablation.seeds", "ablation.seeds: every seed must be >= 0 (got -1)")]
    [InlineData("""{"seeds":null}""", "ablation.seeds", "ablation.seeds: must be given as a value, not null")]
    [InlineData("""{"variants":null}""", "ablation.variants", "ablation.variants: must be given as a value, not null")]
    [InlineData("null", "ablation", "ablation: must be given as a value, not null")]
    [InlineData("""{"variants":[{"name":"a","overrides":5}]}""", "ablation.variants[0].overrides", "ablation.variants[0].overrides: must be an object")]
    public void Bad_variants_and_seeds_are_named_with_the_field(string ablation, string field, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => StudyConfig.Parse(Study(ablation), "s.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("s.json: ", e.Message);
        Assert.Equal(field, e.Field);
        Assert.DoesNotContain("\u0001", e.Message);
        Assert.DoesNotContain("merged", e.Message);
    }

    [Fact]
    public void A_variant_name_leaves_room_for_the_seed_in_the_sub_run_name()
    {
        var name = new string('v', 60);
        var e = Assert.Throws<ConfigException>(() => StudyConfig.Parse(Study($$"""{"variants":[{"name":"{{name}}"}],"seeds":[1,12]}"""), "s.json"));
        Assert.Contains("ablation.variants[0].name: at most 57 characters, so that the sub-run name", e.Message);
        var ok = StudyConfig.Parse(Study($$"""{"variants":[{"name":"{{name[..57]}}"}],"seeds":[1,12]}"""));
        Assert.True(RunNames.IsValid(ok.AblationVariants[0].RunName(12)));
    }

    [Fact]
    public void Without_variants_the_default_ladder_runs_from_Gato_exact_to_the_defaults()
    {
        var c = StudyConfig.Parse($$"""{"name":"abl","base":{{Base}}}""");
        Assert.Equal(["gato-exact", "plus-value-embedding", "plus-rope", "plus-state-noise", "default"], c.AblationVariants.Select(v => v.Name));
        Assert.Equal([1L, 2L], c.Ablation.Seeds);
        var byName = c.AblationVariants.ToDictionary(v => v.Name);
        Assert.Equal(("none", "none"), Model(byName["gato-exact"]));
        Assert.Equal(("fourier", "none"), Model(byName["plus-value-embedding"]));
        Assert.Equal(("none", "rope"), Model(byName["plus-rope"]));
        Assert.Equal(("fourier", "rope"), Model(byName["default"]));
        Assert.Empty(byName["default"].Overrides);
        // Every variant is the base run otherwise: same preset, steps and tasks.
        Assert.All(c.AblationVariants, v =>
        {
            Assert.Equal("ladder-0", v.Config.Preset);
            Assert.Equal(30, v.Config.Steps);
            Assert.Equal(["cartpole", "text"], v.Config.Tasks.Select(t => t.Name));
            Assert.True(RunNames.IsValid(v.RunName(1)), v.RunName(1));
        });
        Assert.StartsWith("Gato exact", byName["gato-exact"].Description);
        Assert.Contains("rotary", byName["plus-rope"].Description);
        Assert.Contains("Fourier value embedding", byName["plus-value-embedding"].Description);
        Assert.DoesNotContain("rotary", byName["plus-value-embedding"].Description);
        Assert.Equal(0.0, byName["gato-exact"].ActionNoise);
        Assert.Null(byName["plus-state-noise"].ActionNoise);
        Assert.Contains("DART noise", byName["plus-state-noise"].Description);
        Assert.Equal(("none", "none"), Model(byName["plus-state-noise"]));
    }

    [Fact]
    public void The_ladder_turns_action_noise_off_except_where_it_is_the_change()
    {
        var with = AblationPlan.DefaultLadder().ToDictionary(v => v.Name, v => v.Overrides);
        Assert.Equal(["gato-exact", "plus-value-embedding", "plus-rope", "plus-state-noise", "default"], with.Keys);
        Assert.Equal(0.0, with["gato-exact"]["action_noise"]!.GetValue<double>());
        Assert.Equal(0.0, with["plus-rope"]["action_noise"]!.GetValue<double>());
        Assert.True(with["plus-state-noise"].ContainsKey("action_noise"));
        Assert.Null(with["plus-state-noise"]["action_noise"]);
        Assert.Equal("""{"model":{"value_embedding":"none","attention_positions":"none"},"action_noise":null}""", with["plus-state-noise"].ToJsonString());
        Assert.Empty(with["default"]);
    }

    [Fact]
    public void Given_variants_replace_the_ladder_and_keep_their_order()
    {
        var c = StudyConfig.Parse(Study("""
            {"variants":[{"name":"gato","overrides":{"model":{"value_embedding":"none","attention_positions":"none"}}},
                         {"name":"longer","overrides":{"steps":60,"optimizer":{"learning_rate":0.002}}}],
             "seeds":[3]}
            """));
        Assert.Equal(["gato", "longer"], c.AblationVariants.Select(v => v.Name));
        Assert.Equal(60, c.AblationVariants[1].Config.Steps);
        Assert.Equal(0.002, c.AblationVariants[1].Config.Optimizer.LearningRate);
        // A nested override changes only the field it names.
        Assert.Equal(new OptimizerConfig().WarmupSteps, c.AblationVariants[1].Config.Optimizer.WarmupSteps);
        Assert.Contains("Also overrides steps, optimizer relative to base.", c.AblationVariants[1].Description);
        Assert.Equal("longer-seed3", c.AblationVariants[1].RunName(3));
    }

    [Fact]
    public void Merge_is_deep_for_objects_and_replaces_everything_else()
    {
        var baseConfig = JsonNode.Parse("""{"steps":10,"tasks":[{"name":"a"},{"name":"b"}],"optimizer":{"learning_rate":0.1,"warmup_steps":5},"model":{"value_embedding":"fourier"}}""")!.AsObject();
        var overrides = JsonNode.Parse("""{"tasks":[{"name":"c"}],"optimizer":{"warmup_steps":0},"model":"x","action_noise":null,"held_out":{"every":3}}""")!.AsObject();
        var before = (baseConfig.ToJsonString(), overrides.ToJsonString());
        var merged = AblationPlan.Merge(baseConfig, overrides);
        Assert.Equal(
            """{"steps":10,"tasks":[{"name":"c"}],"optimizer":{"learning_rate":0.1,"warmup_steps":0},"model":"x","action_noise":null,"held_out":{"every":3}}""",
            merged.ToJsonString());
        Assert.Equal(before, (baseConfig.ToJsonString(), overrides.ToJsonString()));
        Assert.Equal(baseConfig.ToJsonString(), AblationPlan.Merge(baseConfig, null).ToJsonString());
    }

    [Fact]
    public void Other_study_kinds_still_parse_with_the_ablation_defaults()
    {
        var c = StudyConfig.Parse("""{"name":"ok","base":{"preset":"ladder-1","steps":30},"ablation":{}}""");
        Assert.NotEmpty(c.AblationVariants);
        Assert.Equal(["transfer", "scaling", "ablation", "icl"], StudyKinds.All);
    }

    [Fact]
    public void The_README_example_parses()
    {
        var c = StudyConfig.Parse("""
            {
              "name": "tiny-ablation",
              "base": { "preset": "ladder-1", "steps": 300, "batch_size": 8, "threads": 2,
                        "tasks": [ { "name": "cartpole" }, { "name": "pendulum" }, { "name": "text" } ],
                        "checkpoint": { "every": 0, "keep_last": 1 } },
              "evaluation": { "suite": "control", "episodes": 20 },
              "ablation": {
                "variants": [
                  { "name": "gato-exact", "overrides": { "model": { "value_embedding": "none", "attention_positions": "none" }, "action_noise": 0 } },
                  { "name": "plus-rope", "overrides": { "model": { "value_embedding": "none" }, "action_noise": 0 } },
                  { "name": "default" }
                ],
                "seeds": [1, 2]
              }
            }
            """);
        Assert.Equal(["gato-exact", "plus-rope", "default"], c.AblationVariants.Select(v => v.Name));
        Assert.Equal(("none", "rope"), Model(c.AblationVariants[1]));
        Assert.Equal(0.0, c.AblationVariants[1].ActionNoise);
        Assert.Null(c.AblationVariants[2].ActionNoise);
    }

    private static (string, string) Model(AblationVariant v) => (v.Config.Model.ValueEmbedding, v.Config.Model.AttentionPositions);
}
