namespace Cleanroom.Policy.Tests;

/// <summary>Shared inputs for tests: a pinned image and small policy builders.</summary>
internal static class TestPolicies
{
    public const string Digest = "sha256:aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb";

    public const string Image = "ghcr.io/buildkite/cleanroom-base/debian@" + Digest;

    /// <summary>A valid policy whose sandbox block ends with <paramref name="sandboxBody"/> (indented two spaces).</summary>
    public static string WithSandbox(string sandboxBody = "") =>
        $"version: 1\nsandbox:\n  image:\n    ref: {Image}\n" + sandboxBody;

    /// <summary>A policy with the given allow and deny lists (YAML flow sequences).</summary>
    public static string WithNetwork(string allow, string deny = "[]") =>
        WithSandbox($"  network:\n    allow: {allow}\n    deny: {deny}\n");

    public static CompiledPolicy CompileValid(string yaml, PolicyCompileOptions? options = null)
    {
        var result = PolicyCompiler.Compile(yaml, "test.yaml", options);
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Policy!;
    }

    public static PolicyCompileResult CompileInvalid(string yaml, PolicyCompileOptions? options = null)
    {
        var result = PolicyCompiler.Compile(yaml, "test.yaml", options);
        Assert.False(result.IsValid, "expected errors, but the policy compiled");
        return result;
    }
}
