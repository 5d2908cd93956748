using System.Text.Json;
using Cleanroom.Cli.Policy;
using Cleanroom.Policy;

namespace Cleanroom.Cli.Tests;

/// <summary>Output and exit codes of <c>cleanroom policy validate|show|init</c>.</summary>
public sealed class PolicyCommandTests
{
    private const string Image = "ghcr.io/buildkite/cleanroom-base/debian@sha256:aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb";

    private const string Policy = $"""
        version: 1
        sandbox:
          image:
            ref: {Image}
          resources: {"{"}vcpus: 4, memory: 8GiB{"}"}
          network:
            allow: [api.github.com:443, {"{"}host: example.com, ports: [80, 443]{"}"}]
            deny: [evil.example.com]
          dependencies:
            - name: node
              command: npm ci
              outputs: {"{"}dirs: [node_modules]{"}"}
        """;

    [Fact]
    public void Validate_prints_path_hash_and_summary_and_exits_zero()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", Policy);

        var (code, stdout, stderr) = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = repo.Path }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Valid, code);
        var lines = stdout.Split('\n');
        Assert.Equal("policy valid: " + PolicyLoader.DisplayPath(Path.Combine(repo.Path, "cleanroom.yaml")), lines[0]);
        Assert.Matches("^policy hash: [0-9a-f]{64}$", lines[1]);
        Assert.Contains("network: default deny, 2 allow rules, 1 deny rule", stdout, StringComparison.Ordinal);
        Assert.Contains("  allow example.com:80,443", stdout, StringComparison.Ordinal);
        Assert.Contains("  deny  evil.example.com (all ports)", stdout, StringComparison.Ordinal);
        Assert.Contains("resources: at least vcpus 4, memory 8GiB", stdout, StringComparison.Ordinal);
        Assert.Contains("dependencies: node", stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr);
    }

    [Fact]
    public void Validate_reports_every_error_on_stderr_and_exits_one()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", Policy.Replace("api.github.com:443", "api.github.com:99999", StringComparison.Ordinal)
            .Replace("vcpus: 4", "vcpus: many", StringComparison.Ordinal));

        var (code, stdout, stderr) = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = repo.Path }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Invalid, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Matches(@"cleanroom\.yaml:5:22: error: sandbox\.resources\.vcpus: ", stderr);
        Assert.Matches(@"cleanroom\.yaml:7:13: error: sandbox\.network\.allow\[0\]: ", stderr);
        Assert.Contains("(2 errors)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_json_describes_a_valid_policy()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", Policy);

        var (code, stdout, _) = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = repo.Path, Json = true }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Valid, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.Equal(Path.Combine(repo.Path, "cleanroom.yaml"), root.GetProperty("source").GetString());
        Assert.Equal(64, root.GetProperty("hash").GetString()!.Length);
        Assert.Equal(443, root.GetProperty("policy").GetProperty("sandbox").GetProperty("network").GetProperty("allow")[0].GetProperty("ports")[0].GetInt32());
        Assert.Equal(0, root.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void Validate_json_describes_errors_with_positions_and_codes()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", Policy.Replace("api.github.com:443", "https://api.github.com", StringComparison.Ordinal));

        var (code, stdout, _) = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = repo.Path, Json = true }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Invalid, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.False(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("policy").ValueKind);
        var error = json.RootElement.GetProperty("errors")[0];
        Assert.Equal("url_not_host", error.GetProperty("code").GetString());
        Assert.Equal("policy_invalid", error.GetProperty("reason").GetString());
        Assert.Equal("sandbox.network.allow[0]", error.GetProperty("path").GetString());
        Assert.Equal(7, error.GetProperty("line").GetInt32());
        Assert.Equal(13, error.GetProperty("column").GetInt32());
        Assert.Equal("string \"https://api.github.com\"", error.GetProperty("found").GetString());
    }

    [Fact]
    public void Validate_honours_an_explicit_policy_file()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", "garbage: [");
        repo.Write("ci/policy.yaml", Policy);

        var (code, stdout, _) = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = repo.Path, PolicyFile = "ci/policy.yaml" }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Valid, code);
        Assert.Contains("policy.yaml", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_paths_on_the_command_line_are_usage_errors()
    {
        using var repo = new TemporaryDirectory();

        var missingDirectory = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = Path.Combine(repo.Path, "nope") }, o.Out, o.Err));
        var missingFile = Run(o => PolicyShowCommand.Run(new PolicyCommandOptions { Directory = repo.Path, PolicyFile = "nope.yaml" }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Usage, missingDirectory.Code);
        Assert.Contains("does not exist", missingDirectory.Stderr, StringComparison.Ordinal);
        Assert.Equal(PolicyExitCodes.Usage, missingFile.Code);
    }

    [Fact]
    public void No_policy_in_the_repository_is_invalid_not_a_usage_error()
    {
        using var repo = new TemporaryDirectory();

        var (code, _, stderr) = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = repo.Path }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Invalid, code);
        Assert.Contains("cleanroom policy init", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Show_json_is_the_payload_the_daemon_accepts()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", Policy);

        var (code, stdout, _) = Run(o => PolicyShowCommand.Run(new PolicyCommandOptions { Directory = repo.Path, Json = true }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Valid, code);
        var fromFile = PolicyCompiler.Compile(Policy, "test.yaml").Policy;
        Assert.Equal(fromFile, CompiledPolicy.FromJson(stdout));
    }

    [Fact]
    public void Show_text_lists_the_blocks()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", Policy);

        var (code, stdout, _) = Run(o => PolicyShowCommand.Run(new PolicyCommandOptions { Directory = repo.Path }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Valid, code);
        Assert.Contains("dependency node:", stdout, StringComparison.Ordinal);
        Assert.Contains("  output dirs: /workspace/node_modules", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Init_writes_a_valid_starter_and_refuses_to_overwrite_without_force()
    {
        using var repo = new TemporaryDirectory();
        var options = new PolicyInitOptions { Directory = repo.Path, ImageRef = Image };

        var first = Run(o => PolicyInitCommand.Run(options, o.Out, o.Err));
        var second = Run(o => PolicyInitCommand.Run(options, o.Out, o.Err));
        var forced = Run(o => PolicyInitCommand.Run(options with { Force = true }, o.Out, o.Err));
        var validate = Run(o => PolicyValidateCommand.Run(new PolicyCommandOptions { Directory = repo.Path }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Valid, first.Code);
        Assert.StartsWith("policy written: ", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(PolicyExitCodes.Invalid, second.Code);
        Assert.Contains("--force", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(PolicyExitCodes.Valid, forced.Code);
        Assert.Equal(PolicyExitCodes.Valid, validate.Code);
        Assert.Equal(string.Empty, validate.Stderr);
    }

    [Fact]
    public void Init_refuses_when_a_buildkite_policy_exists()
    {
        using var repo = new TemporaryDirectory();
        repo.Write(".buildkite/cleanroom.yaml", Policy);

        var (code, _, stderr) = Run(o => PolicyInitCommand.Run(new PolicyInitOptions { Directory = repo.Path }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Invalid, code);
        Assert.Contains(".buildkite", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Init_with_a_malformed_image_is_a_usage_error_and_writes_nothing()
    {
        using var repo = new TemporaryDirectory();

        var (code, _, _) = Run(o => PolicyInitCommand.Run(new PolicyInitOptions { Directory = repo.Path, ImageRef = "Not An Image" }, o.Out, o.Err));

        Assert.Equal(PolicyExitCodes.Usage, code);
        Assert.False(File.Exists(Path.Combine(repo.Path, "cleanroom.yaml")));
    }

    private static (int Code, string Stdout, string Stderr) Run(Func<(TextWriter Out, TextWriter Err), int> command)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var code = command((stdout, stderr));
        return (code, stdout.ToString().TrimEnd('\n'), stderr.ToString().TrimEnd('\n'));
    }
}
