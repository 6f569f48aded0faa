using System.Diagnostics;
using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Envs.Tests;

public class SokobanTests
{
    [Fact]
    public void Sok_parser_reads_several_levels_with_titles_and_skips_comment_blocks()
    {
        var levels = SokobanLevel.ParseMany(Fixtures.TwoLevels, "fixture");
        Assert.Equal(2, levels.Count);
        Assert.Equal("1 'Corridor'", levels[0].Title);
        Assert.Equal(["#######", "#@ $ .#", "#######"], levels[0].Rows);
        Assert.Equal("Corner", levels[1].Title);
        Assert.Equal((8, 5), (levels[1].Width, levels[1].Height));
        Assert.Equal((1, 1, 1), (levels[1].Boxes, levels[1].Goals, levels[1].Players));
    }

    [Fact]
    public void Sok_parser_refuses_unplayable_levels_naming_the_source()
    {
        var e = Assert.Throws<InvalidDataException>(() => SokobanLevel.ParseMany("#####\n#@$$.#\n#####", "broken.sok"));
        Assert.Contains("broken.sok", e.Message);
        Assert.Contains("2 boxes and 1 goals", e.Message);
        Assert.Throws<InvalidDataException>(() => SokobanLevel.Parse("#####\n# $.#\n#####"));
    }

    [Theory]
    [InlineData("lurd", "lurd")]
    [InlineData("3r2U", "rrrUU")]
    [InlineData("12l", "llllllllllll")]
    [InlineData("2(dull)r", "dulldullr")]
    [InlineData("2(l3(ur)d)", "lururur" + "d" + "lururur" + "d")]
    [InlineData("(lu)R", "luR")]
    [InlineData("lu\nrd ", "lurd")]
    public void Sol_parser_expands_run_lengths_and_nested_groups(string text, string expanded)
    {
        var solution = SokobanSolution.Parse(text);
        Assert.Equal(expanded, solution.ToString());
        Assert.Equal(expanded.Count(char.IsUpper), solution.Pushes);
    }

    [Theory]
    [InlineData("lux", "unexpected 'x'")]
    [InlineData("2(lu", "without a closing")]
    [InlineData("lu)", "unmatched ')'")]
    [InlineData("lu3", "nothing to repeat")]
    [InlineData("", "no moves")]
    public void Sol_parser_refuses_malformed_text(string text, string message)
    {
        Assert.Contains(message, Assert.Throws<InvalidDataException>(() => SokobanSolution.Parse(text, "x.sol")).Message);
    }

    [Fact]
    public void Fixture_solutions_solve_their_levels_with_the_right_rewards()
    {
        var env = new SokobanEnv(Fixtures.Levels());
        var expert = new SokobanExpert();
        for (var level = 0; level < 2; level++)
        {
            var obs = env.ResetToLevel(level);
            float total = 0;
            StepResult step;
            do
            {
                step = env.Step(expert.Act(obs, env));
                total += step.Reward;
                obs = step.Observation;
            }
            while (!step.Done);
            Assert.True(step.Terminated && env.Solved);
            var moves = env.Level.Solution!.Length;
            Assert.Equal(moves, env.StepCount);
            Assert.Equal(-0.1f * moves + env.Level.Boxes + 10f, total, 4);
        }
    }

    [Fact]
    public void Pushing_rules_block_walls_and_double_boxes_and_reward_goal_changes()
    {
        var env = new SokobanEnv([SokobanLevel.Parse("########\n#@$$ . #\n#   *  #\n#  .   #\n########")]);
        env.Reset(0);
        var right = ActionValue.OfDiscrete(3);
        var step = env.Step(right); // two boxes in a row: blocked
        Assert.Equal(-0.1f, step.Reward);
        Assert.Equal("#@$$ . #", env.Board().Split('\n')[1]);
        Assert.Equal(-0.1f, env.Step(ActionValue.OfDiscrete(1)).Reward); // down to (2,1)
        env.Step(right);
        env.Step(right); // (2,3), next to the box on a goal at (2,4)
        step = env.Step(right); // pushes it off its goal: -1
        Assert.Equal(-1.1f, step.Reward, 5);
        Assert.Equal("#   +$ #", env.Board().Split('\n')[2]);
        Assert.Equal(-0.1f, env.Step(right).Reward, 5); // box (2,5) against (2,6) floor: pushed, no goal change
        Assert.Equal("#   .@$#", env.Board().Split('\n')[2]);
        Assert.Equal(-0.1f, env.Step(right).Reward, 5); // box against the wall: blocked
        Assert.Equal("#   .@$#", env.Board().Split('\n')[2]);
    }

    [Fact]
    public void Rendering_shows_each_tile_kind_in_its_colour()
    {
        var env = new SokobanEnv([SokobanLevel.Parse("######\n#@$.*#\n######")], new SokobanOptions(ViewCells: 8, TilePixels: 2));
        var img = env.Reset(0).Image!;
        Assert.Equal((16, 16, 3), (img.Height, img.Width, img.Channels));
        (byte, byte, byte) At(int row, int col) => (img[row * 2, col * 2, 0], img[row * 2, col * 2, 1], img[row * 2, col * 2, 2]);
        Assert.Equal(((byte)140, (byte)90, (byte)50), At(0, 0));   // wall
        Assert.Equal(((byte)40, (byte)90, (byte)230), At(1, 1));   // player
        Assert.Equal(((byte)220, (byte)200, (byte)40), At(1, 2));  // box
        Assert.Equal(((byte)200, (byte)40, (byte)40), At(1, 3));   // goal
        Assert.Equal(((byte)40, (byte)200, (byte)60), At(1, 4));   // box on goal
        Assert.Equal(((byte)0, (byte)0, (byte)0), At(5, 7));       // outside the level
    }

    [Fact]
    public void A_level_larger_than_the_view_is_shown_around_the_player()
    {
        var rows = new[] { new string('#', 32), "#" + new string(' ', 25) + "$.@  #", new string('#', 32) };
        var env = new SokobanEnv([SokobanLevel.Parse(string.Join('\n', rows))], new SokobanOptions(ViewCells: 10, TilePixels: 1));
        var img = env.Reset(0).Image!;
        Assert.Equal(10, img.Width);
        // The player (column 28) is inside the 10-column window, which is clamped to the level's right edge.
        Assert.Contains(Enumerable.Range(0, 10), c => img[1, c, 2] == 230);
    }

    [Fact]
    public void Files_loader_attaches_solutions_and_skips_multiplayer_levels()
    {
        var dir = Directory.CreateTempSubdirectory("sokoban-files");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "a0001.sok"), "; 1\n\n#######\n#@ $ .#\n#######\n");
            File.WriteAllText(Path.Combine(dir.FullName, "a0001.sol"), "r2R\n");
            File.WriteAllText(Path.Combine(dir.FullName, "b0001.sok"), Fixtures.TwoLevels);
            File.WriteAllText(Path.Combine(dir.FullName, "m0001.sok"), "#######\n#@$.@$.#\n#######\n");
            var levels = SokobanFiles.Load(dir.FullName, out var skipped);
            Assert.Equal(3, levels.Count);
            Assert.Equal("rRR", levels[0].Solution!.ToString());
            Assert.Null(levels[1].Solution);
            Assert.Single(skipped);
            Assert.Contains("m0001.sok", skipped[0]);
            Assert.Throws<FileNotFoundException>(() => SokobanFiles.Load(Path.Combine(dir.FullName, "none")));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    /// <summary>
    /// Every level of Debian's cavepacker-data that has a .sol is solved by replaying it. Uses the
    /// maps directory in GENERALIST_CAVEPACKER_MAPS, or downloads the package with apt-get.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Every_cavepacker_solution_solves_its_level()
    {
        var maps = Environment.GetEnvironmentVariable("GENERALIST_CAVEPACKER_MAPS") ?? FetchCavepacker();
        var levels = SokobanFiles.Load(maps).Where(l => l.Solution is not null).ToList();
        Assert.True(levels.Count >= 1000, $"expected the ~1011 solved levels, found {levels.Count}");
        var env = new SokobanEnv(levels, new SokobanOptions(MaxSteps: 100_000));
        var failures = new List<string>();
        for (var i = 0; i < levels.Count; i++)
        {
            env.ResetToLevel(i);
            StepResult? last = null;
            foreach (var move in levels[i].Solution!.Moves)
            {
                last = env.Step(ActionValue.OfDiscrete(move.Direction));
                if (last.Done) break;
            }
            if (last is not { Terminated: true } || env.StepCount != levels[i].Solution!.Length) failures.Add(levels[i].Title);
        }
        Assert.True(failures.Count == 0, $"{failures.Count} solutions fail: {string.Join(", ", failures.Take(10))}");
    }

    private static string FetchCavepacker()
    {
        var dir = Directory.CreateTempSubdirectory("cavepacker").FullName;
        if (!TryRun("apt-get", "download cavepacker-data", dir))
        {
            Run("apt-get", "update -qq", dir); // a fresh machine has no package lists yet
            Run("apt-get", "download cavepacker-data", dir);
        }
        var deb = Directory.GetFiles(dir, "cavepacker-data*.deb").Single();
        Run("dpkg-deb", $"-x {deb} {dir}/x", dir);
        return Path.Combine(dir, "x/usr/share/games/cavepacker/maps");
    }

    private static void Run(string file, string args, string dir) =>
        Assert.True(TryRun(file, args, dir, out var error), $"{file} {args} failed: {error}");

    private static bool TryRun(string file, string args, string dir) => TryRun(file, args, dir, out _);

    private static bool TryRun(string file, string args, string dir, out string error)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(300_000)) p.Kill(true);
        error = stderr.Result;
        return p.HasExited && p.ExitCode == 0;
    }
}
