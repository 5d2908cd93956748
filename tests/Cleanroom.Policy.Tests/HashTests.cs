using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.Policy.Tests;

/// <summary>The policy hash ignores form and follows meaning.</summary>
public sealed class HashTests
{
    private const string Baseline = $"""
        version: 1
        sandbox:
          image:
            ref: {TestPolicies.Image}
          resources:
            vcpus: 4
            memory: 8GiB
          network:
            allow:
              - api.github.com:443
              - host: example.com
                ports: [80, 443]
            deny:
              - evil.example.net
          dependencies:
            - name: node
              command: npm ci
              env:
                A: "1"
                B: "2"
              outputs:
                dirs: [node_modules, .cache]
        """;

    public static TheoryData<string, string> EquivalentSpellings() => new()
    {
        {
            "comments, blank lines and key order",
            $"""
            # leading comment
            sandbox:

              network:   # trailing comment
                deny: [evil.example.net]
                allow:
                  - {"{"}ports: [443, 80], host: example.com{"}"}
                  - api.github.com:443
              dependencies:
                - outputs: {"{"}dirs: [.cache, node_modules]{"}"}
                  env: {"{"}B: "2", A: "1"{"}"}
                  command: npm ci
                  name: node
              resources: {"{"}memory: 8192MiB, vcpus: 4{"}"}
              image: {"{"}ref: {TestPolicies.Image}{"}"}
            version: 1
            """
        },
        {
            "defaults written out",
            Baseline.Replace("  network:\n", "  docker:\n    required: false\n  run: {}\n  services: []\n  network:\n    default: deny\n", StringComparison.Ordinal)
                + "\nrepository:\n  enabled: true\n  remote: origin\n  path: /workspace/\n  submodules: false\n"
        },
        {
            "repository mode spelled out",
            Baseline + "\nrepository:\n  mode: current-repo\n"
        },
        {
            "host spelling, duplicate ports and single-port lists",
            Baseline
                .Replace("api.github.com:443", "API.GitHub.com.:443", StringComparison.Ordinal)
                .Replace("ports: [80, 443]", "ports: [443, 80, 443, 80]", StringComparison.Ordinal)
        },
        {
            "equivalent output spellings",
            Baseline.Replace("dirs: [node_modules, .cache]", "dirs: [./node_modules/, $WORKSPACE/.cache]", StringComparison.Ordinal)
        },
        {
            "one host split over two rules",
            Baseline.Replace("      - host: example.com\n        ports: [80, 443]\n", "      - example.com:80\n      - example.com:443\n", StringComparison.Ordinal)
        },
        {
            "the same document in JSON",
            $$$"""
            {"version": 1, "sandbox": {"image": {"ref": "{{{TestPolicies.Image}}}"},
             "resources": {"vcpus": 4, "memory": "8GiB"},
             "network": {"allow": ["api.github.com:443", {"host": "example.com", "ports": [80, 443]}], "deny": "evil.example.net"},
             "dependencies": [{"name": "node", "command": "npm ci", "env": {"A": "1", "B": "2"}, "outputs": {"dirs": ["node_modules", ".cache"]}}]}}
            """
        },
    };

    public static TheoryData<string, string> SemanticChanges() => new()
    {
        { "image digest", Baseline.Replace("aaaaaaaa0123", "aaaaaaaa0124", StringComparison.Ordinal) },
        { "vcpus", Baseline.Replace("vcpus: 4", "vcpus: 2", StringComparison.Ordinal) },
        { "memory", Baseline.Replace("8GiB", "9GiB", StringComparison.Ordinal) },
        { "disk floor added", Baseline.Replace("memory: 8GiB", "memory: 8GiB\n    disk: 20GiB", StringComparison.Ordinal) },
        { "allowed port", Baseline.Replace("api.github.com:443", "api.github.com:8443", StringComparison.Ordinal) },
        { "allowed host", Baseline.Replace("api.github.com:443", "uploads.github.com:443", StringComparison.Ordinal) },
        { "extra port", Baseline.Replace("ports: [80, 443]", "ports: [80, 443, 8080]", StringComparison.Ordinal) },
        { "deny rule narrowed to a port", Baseline.Replace("- evil.example.net", "- evil.example.net:443", StringComparison.Ordinal) },
        { "docker required", Baseline + "\n  docker:\n    required: true\n" },
        { "repository path", Baseline + "\nrepository:\n  path: /src\n" },
        { "repository disabled", Baseline + "\nrepository:\n  enabled: false\n" },
        { "submodules", Baseline + "\nrepository:\n  submodules: true\n" },
        { "remote", Baseline + "\nrepository:\n  remote: upstream\n" },
        { "command text", Baseline.Replace("command: npm ci", "command: npm install", StringComparison.Ordinal) },
        { "command as argv", Baseline.Replace("command: npm ci", "command: [npm, ci]", StringComparison.Ordinal) },
        { "env value", Baseline.Replace("B: \"2\"", "B: \"3\"", StringComparison.Ordinal) },
        { "output path", Baseline.Replace("dirs: [node_modules, .cache]", "dirs: [node_modules, .cache2]", StringComparison.Ordinal) },
        { "output dir becomes a file", Baseline.Replace("dirs: [node_modules, .cache]", "dirs: [node_modules]\n        files: [.cache]", StringComparison.Ordinal) },
        { "input added", Baseline.Replace("      env:", "      inputs:\n        files: [package.json]\n      env:", StringComparison.Ordinal) },
        { "block name", Baseline.Replace("name: node", "name: nodejs", StringComparison.Ordinal) },
        { "run before", Baseline + "\n  run:\n    before: make up\n" },
        { "reuse portable", Baseline.Replace("  dependencies:\n    - name", "  dependencies:\n   reuse: portable\n   blocks:\n    - name", StringComparison.Ordinal).Replace("      command: npm ci", "      command: npm ci\n      inputs: {files: [package.json]}", StringComparison.Ordinal) },
        { "block moved to services", Baseline.Replace("  dependencies:", "  services:", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(EquivalentSpellings))]
    public void Equivalent_spellings_have_the_same_hash(string description, string variant)
    {
        var baseline = TestPolicies.CompileValid(Baseline);
        var other = TestPolicies.CompileValid(variant);

        Assert.True(baseline.Hash == other.Hash, $"{description}:\n{baseline.ToCanonicalJson()}\n{other.ToCanonicalJson()}");
        Assert.Equal(baseline, other);
    }

    [Theory]
    [MemberData(nameof(SemanticChanges))]
    public void Every_semantic_change_changes_the_hash(string description, string variant)
    {
        var baseline = TestPolicies.CompileValid(Baseline);
        var changed = TestPolicies.CompileValid(variant);

        Assert.True(baseline.Hash != changed.Hash, description);
    }

    [Fact]
    public void Semantic_changes_all_hash_differently_from_each_other()
    {
        var hashes = SemanticChanges().Select(row => TestPolicies.CompileValid((string)row[1]).Hash).ToList();

        Assert.Equal(hashes.Count, hashes.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Hash_is_sha256_of_the_canonical_json()
    {
        var policy = TestPolicies.CompileValid(Baseline);

        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(policy.ToCanonicalJson())));

        Assert.Equal(expected, policy.Hash);
    }

    [Fact]
    public void Canonical_form_and_hash_of_the_minimal_policy_are_pinned()
    {
        // A change here changes every policy hash in the field: only make it on purpose.
        var policy = TestPolicies.CompileValid(TestPolicies.WithSandbox());

        Assert.Equal(
            "{\"version\":1,\"repository\":{\"enabled\":true,\"remote\":\"origin\",\"path\":\"/workspace\",\"submodules\":false},"
            + "\"sandbox\":{\"image\":{\"ref\":\"" + TestPolicies.Image + "\"},\"resources\":{},"
            + "\"network\":{\"default\":\"deny\",\"allow\":[],\"deny\":[]},\"docker\":{\"required\":false},"
            + "\"dependencies\":{\"reuse\":\"exact\",\"blocks\":[]},\"services\":{\"reuse\":\"exact\",\"blocks\":[]},\"run\":{}}}",
            policy.ToCanonicalJson());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(policy.ToCanonicalJson()))), policy.Hash);
    }

    [Fact]
    public void Repository_mode_none_is_the_same_policy_as_enabled_false()
    {
        var mode = TestPolicies.CompileValid(Baseline + "\nrepository:\n  mode: none\n");
        var enabled = TestPolicies.CompileValid(Baseline + "\nrepository:\n  enabled: false\n");

        Assert.False(mode.Repository.Enabled);
        Assert.Equal(enabled.Hash, mode.Hash);
    }

    [Fact]
    public void Compiling_twice_gives_the_same_hash()
    {
        Assert.Equal(TestPolicies.CompileValid(Baseline).Hash, TestPolicies.CompileValid(Baseline).Hash);
    }

    [Fact]
    public void Dangerously_allowing_all_changes_the_hash_and_back()
    {
        var policy = TestPolicies.CompileValid(Baseline);

        var open = policy.WithNetworkDefault(NetworkDefault.Allow);

        Assert.NotEqual(policy.Hash, open.Hash);
        Assert.Equal(policy.Hash, open.WithNetworkDefault(NetworkDefault.Deny).Hash);
        Assert.Same(policy, policy.WithNetworkDefault(NetworkDefault.Deny));
    }

    [Fact]
    public void Special_characters_in_strings_are_escaped_canonically()
    {
        var policy = TestPolicies.CompileValid(TestPolicies.WithSandbox(
            "  run:\n    before: \"echo \\\"quoted\\\" \\\\ tab\\there\\nnew line \\u00e9 \\u0001\"\n"));

        Assert.Contains("\"before\":\"echo \\\"quoted\\\" \\\\ tab\\there\\nnew line é \\u0001\"", policy.ToCanonicalJson(), StringComparison.Ordinal);
        Assert.Equal(policy, CompiledPolicy.FromJson(policy.ToJson()));
    }
}
