using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;
using Xunit;

namespace Generalist.Cli.Tests;

/// <summary>
/// Guards Generalist.Torch.Scalars: no method of ours may let the compiler turn a number into a
/// TorchSharp Scalar or Tensor (an implicit conversion, or an operator taking a primitive), because
/// TorchSharp 0.107 leaves that object to the finalizer while libtorch still reads it, which
/// crashed training runs at random steps. The check walks the IL of every Generalist assembly.
/// </summary>
public sealed class NativeScalarLifetimeTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private static readonly HashSet<Type> Numbers =
        [typeof(double), typeof(float), typeof(int), typeof(long), typeof(short), typeof(byte), typeof(sbyte), typeof(bool)];

    public static TheoryData<string> Assemblies() => new(
        new[] { "generalist", "Generalist.Model", "Generalist.Torch", "Generalist.Training", "Generalist.Evaluation",
                "Generalist.Studies", "Generalist.Service", "Generalist.Distributed", "Generalist.Tokenizers",
                "Generalist.Datasets", "Generalist.Envs" });

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void No_number_becomes_a_finalizer_owned_Scalar(string name)
    {
        var assembly = Assembly.Load(name);
        var offenders = new List<string>();
        foreach (var type in LoadableTypes(assembly))
            foreach (var method in MethodsOf(type))
                foreach (var callee in Callees(method))
                    if (MakesTemporary(callee))
                        offenders.Add($"{type.FullName}.{method.Name} calls {callee.DeclaringType!.Name}.{callee.Name}" +
                                      $"({string.Join(", ", callee.GetParameters().Select(p => p.ParameterType.Name))})");
        Assert.True(offenders.Count == 0,
            "use Generalist.Torch.Scalars.Of(...) or a using-scoped ToScalar() instead:\n" + string.Join("\n", offenders.Distinct()));
    }

    [Fact]
    public void The_scan_finds_an_implicit_conversion()
    {
        // The guard must be able to fail: this method converts a double implicitly.
        var method = typeof(NativeScalarLifetimeTests).GetMethod(nameof(ImplicitOnPurpose), BindingFlags.NonPublic | BindingFlags.Static)!;
        Assert.Contains(Callees(method), MakesTemporary);
    }

    private static Scalar ImplicitOnPurpose(double value) => value;

    private static bool MakesTemporary(MethodBase callee)
    {
        var declaring = callee.DeclaringType;
        if (declaring is null || !callee.Name.StartsWith("op_", StringComparison.Ordinal)) return false;
        var isScalar = declaring == typeof(Scalar);
        var isTensor = declaring == typeof(torch.Tensor);
        if (!isScalar && !isTensor) return false;
        return callee.GetParameters().Any(p => Numbers.Contains(p.ParameterType));
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.Where(t => t is not null)!; }
    }

    private static IEnumerable<MethodBase> MethodsOf(Type type)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public |
                                 BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        return type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
    }

    /// <summary>The methods a method body calls, by walking its IL opcode by opcode.</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            if (op.OperandType == OperandType.InlineMethod)
            {
                var token = BitConverter.ToInt32(il, i);
                MethodBase? callee = null;
                try { callee = method.Module.ResolveMethod(token, typeArgs, methodArgs); }
                catch (ArgumentException) { }
                if (callee is not null) yield return callee;
            }
            i += OperandSize(op, il, i);
        }
    }

    private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };
}
