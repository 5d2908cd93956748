using System.Text.Json;

namespace Cleanroom.Policy.Tests;

/// <summary>The payload the CLI sends to the daemon, and the daemon's re-validation of it.</summary>
public sealed class CompiledPolicyJsonTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly CompiledPolicy Policy = TestPolicies.CompileValid(TestPolicies.WithSandbox("""
          resources: {vcpus: 2, memory: 4GiB, disk: 10GiB}
          network:
            allow: [api.github.com:443, "*.npmjs.org:443", {host: "2001:db8::/48", ports: [443, 80]}]
            deny: [169.254.169.254]
          docker: {required: true}
          dependencies:
            - name: node
              command: [npm, ci]
              env: {NODE_ENV: production}
              outputs: {dirs: [node_modules, ~/.npm]}
          services:
            - name: db
              command: make db
              outputs: {files: [/var/lib/db.img]}
          run: {before: docker compose up -d}
        """));

    [Fact]
    public void Round_trip_preserves_every_part()
    {
        var received = CompiledPolicy.FromJson(Policy.ToJson());

        Assert.Equal(Policy, received);
        Assert.Equal(Policy.ToCanonicalJson(), received.ToCanonicalJson());
        Assert.Equal(2, received.Resources.Vcpus);
        Assert.Equal(4L << 30, received.Resources.MemoryBytes);
        Assert.Equal(10L << 30, received.Resources.DiskBytes);
        Assert.True(received.DockerRequired);
        Assert.Equal(["node"], received.Dependencies.Blocks.Select(b => b.Name));
        Assert.Equal(["npm", "ci"], received.Dependencies.Blocks[0].Command.Argv.ToArray());
        Assert.Equal(["/workspace/node_modules", "~/.npm"], received.Dependencies.Blocks[0].OutputDirectories.ToArray());
        Assert.Equal(["/var/lib/db.img"], received.Services.Blocks[0].OutputFiles.ToArray());
        Assert.Equal("docker compose up -d", received.RunBefore!.Script);
        Assert.Equal(["sh", "-lc", "docker compose up -d"], received.RunBefore.ToProcessArgv().ToArray());
        Assert.True(received.Evaluate("registry.npmjs.org", 443).IsAllowed);
        Assert.Equal(TestPolicies.Digest, received.Image.Digest);
    }

    [Fact]
    public void Indented_json_is_accepted_too()
    {
        using var compact = JsonDocument.Parse(Policy.ToJson());
        var indented = JsonSerializer.Serialize(compact.RootElement, Indented);

        Assert.Equal(Policy, CompiledPolicy.FromJson(indented));
    }

    [Fact]
    public void A_wrong_hash_is_refused()
    {
        var json = Policy.ToJson().Replace(Policy.Hash, new string('0', 64), StringComparison.Ordinal);

        var exception = Assert.Throws<PolicyValidationException>(() => CompiledPolicy.FromJson(json));

        var error = Assert.Single(exception.Diagnostics);
        Assert.Equal(PolicyErrorKind.HashMismatch, error.Kind);
        Assert.Equal("hash", error.KeyPath);
        Assert.Equal(ReasonCode.PolicyInvalid, exception.Reason);
    }

    [Fact]
    public void Tampered_content_is_refused()
    {
        var json = Policy.ToJson().Replace("\"api.github.com\"", "\"api.gitlab.com\"", StringComparison.Ordinal);

        var result = CompiledPolicy.TryFromJson(json);

        Assert.False(result.IsValid);
        Assert.Equal(PolicyErrorKind.HashMismatch, Assert.Single(result.Errors).Kind);
    }

    [Fact]
    public void Invalid_content_is_refused_with_the_same_rules_as_files()
    {
        var json = Policy.ToJson().Replace("\"ports\":[80,443]", "\"ports\":[80,70000]", StringComparison.Ordinal);

        var result = CompiledPolicy.TryFromJson(json);

        var error = Assert.Single(result.Errors);
        Assert.Equal(PolicyErrorKind.InvalidPort, error.Kind);
        Assert.StartsWith("policy.sandbox.network.allow[", error.KeyPath, StringComparison.Ordinal);
        Assert.Equal(CompiledPolicy.CompiledSourceName, error.Location.File);
        Assert.Equal(1, error.Location.Line);
        Assert.True(error.Location.Column > 1);
    }

    [Theory]
    [InlineData("", PolicyErrorKind.EmptyDocument)]
    [InlineData("{", PolicyErrorKind.SyntaxError)]
    [InlineData("[]", PolicyErrorKind.WrongType)]
    [InlineData("{\"policy\": {}}", PolicyErrorKind.MissingKey)]
    [InlineData("{\"hash\": \"abc\", \"policy\": {}}", PolicyErrorKind.InvalidValue)]
    public void Malformed_payloads_are_refused(string json, PolicyErrorKind kind)
    {
        var result = CompiledPolicy.TryFromJson(json);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Kind == kind);
    }

    [Fact]
    public void Unknown_envelope_members_are_refused()
    {
        var json = Policy.ToJson().Insert(1, "\"extra\":1,");

        Assert.Contains(CompiledPolicy.TryFromJson(json).Errors, e => e.Kind == PolicyErrorKind.UnknownKey && e.KeyPath == "extra");
    }

    [Fact]
    public void A_dangerously_open_policy_travels_as_such()
    {
        var open = Policy.WithNetworkDefault(NetworkDefault.Allow);

        var received = CompiledPolicy.FromJson(open.ToJson());

        Assert.Equal(NetworkDefault.Allow, received.Network.Default);
        Assert.Equal(open.Hash, received.Hash);
    }

    [Fact]
    public void Input_files_are_not_looked_up_by_the_daemon()
    {
        var withInputs = TestPolicies.CompileValid(TestPolicies.WithSandbox(
            "  dependencies:\n    - name: a\n      command: make\n      inputs: {files: [does-not-exist.lock]}\n"));

        Assert.Equal(withInputs, CompiledPolicy.FromJson(withInputs.ToJson()));
    }

    [Fact]
    public void Oversized_payloads_are_refused()
    {
        var json = Policy.ToJson().Insert(1, "\"pad\":\"" + new string('x', 1024 * 1024) + "\",");

        Assert.Equal(PolicyErrorKind.FileTooLarge, Assert.Single(CompiledPolicy.TryFromJson(json).Errors).Kind);
    }
}
