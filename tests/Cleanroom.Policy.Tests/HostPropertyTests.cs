using System.Globalization;
using System.Text;

namespace Cleanroom.Policy.Tests;

/// <summary>
/// Property tests: thousands of random host names pushed through normalise → match, with fixed seeds so that a
/// failure reproduces exactly.
/// </summary>
public sealed class HostPropertyTests
{
    private const int Iterations = 2000;
    private const string LabelCharacters = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static readonly string[] TopLevelLabels = ["com", "org", "io", "dev", "example", "test"];
    private static readonly string[] UnicodeLabels = ["bücher", "münchen", "пример", "例え", "ελληνικά", "straße"];

    [Fact]
    public void Normalising_a_normalised_host_changes_nothing()
    {
        var random = new Random(1);
        for (var i = 0; i < Iterations; i++)
        {
            var host = RandomSpelling(random, RandomName(random));
            Assert.True(HostPattern.TryParse(host, out var once, out var error), $"{host}: {error}");
            Assert.True(HostPattern.TryParse(once.Value, out var twice, out _));
            Assert.Equal(once.Value, twice.Value);
            Assert.Equal(once.Value, once.Value.ToLowerInvariant());
            Assert.False(once.Value.EndsWith('.'));
            Assert.True(once.Value.All(char.IsAscii), once.Value);
        }
    }

    [Fact]
    public void Any_spelling_of_an_allowed_host_is_allowed_and_nothing_else_is()
    {
        var random = new Random(2);
        for (var i = 0; i < Iterations / 10; i++)
        {
            var name = RandomName(random);
            var port = random.Next(1, 65536);
            var policy = TestPolicies.CompileValid(TestPolicies.WithNetwork($"[{{host: \"{name}\", ports: [{port}]}}]"));
            for (var j = 0; j < 10; j++)
            {
                var decision = policy.Evaluate(RandomSpelling(random, name), port);
                Assert.True(decision.IsAllowed, name);
                Assert.Equal(NetworkDecisionSource.AllowRule, decision.Source);
                Assert.False(policy.Evaluate(name, port == 65535 ? 1 : port + 1).IsAllowed);
                Assert.False(policy.Evaluate(RandomLabel(random) + "." + name, port).IsAllowed);
            }
        }
    }

    [Fact]
    public void Wildcards_match_every_depth_below_and_never_the_apex()
    {
        var random = new Random(3);
        for (var i = 0; i < Iterations / 10; i++)
        {
            var domain = RandomName(random);
            var policy = TestPolicies.CompileValid(TestPolicies.WithNetwork($"[\"*.{domain}:443\"]"));
            var normalised = policy.Network.Allow[0].Host.WildcardSuffix!;
            Assert.False(policy.Evaluate(domain, 443).IsAllowed, domain);
            for (var j = 0; j < 10; j++)
            {
                var depth = random.Next(1, 5);
                var sub = string.Join('.', Enumerable.Range(0, depth).Select(_ => RandomLabel(random)));
                Assert.True(policy.Evaluate(RandomSpelling(random, sub + "." + domain), 443).IsAllowed, sub + "." + domain);
                Assert.False(policy.Evaluate(sub + normalised, 443).IsAllowed, sub + normalised);
            }
        }
    }

    [Fact]
    public void A_deny_rule_wins_over_any_allow_rule_that_matches()
    {
        var random = new Random(4);
        for (var i = 0; i < Iterations / 10; i++)
        {
            var domain = RandomName(random);
            var denied = RandomLabel(random) + "." + domain;
            var policy = TestPolicies.CompileValid(TestPolicies.WithNetwork($"[\"*.{domain}:443\"]", $"[\"{denied}\"]"));

            var decision = policy.Evaluate(RandomSpelling(random, denied), 443);

            Assert.False(decision.IsAllowed);
            Assert.Equal(NetworkDecisionSource.DenyRule, decision.Source);
        }
    }

    [Fact]
    public void Addresses_match_only_address_rules()
    {
        var random = new Random(5);
        var policy = TestPolicies.CompileValid(TestPolicies.WithNetwork("[10.0.0.0/8:443, \"*.example.com:443\"]"));
        for (var i = 0; i < Iterations; i++)
        {
            var inside = $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}";
            var outside = $"{random.Next(11, 224)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}";

            Assert.True(policy.Evaluate(inside, 443).IsAllowed, inside);
            Assert.True(policy.Evaluate("::ffff:" + inside, 443).IsAllowed, inside);
            Assert.False(policy.Evaluate(outside, 443).IsAllowed, outside);
            Assert.False(policy.Evaluate(inside + ".example.org", 443).IsAllowed);
        }
    }

    [Fact]
    public void Random_garbage_never_throws_and_is_never_allowed_by_default_deny()
    {
        var random = new Random(6);
        var policy = TestPolicies.CompileValid(TestPolicies.WithNetwork("[\"*.example.com:443\", 10.0.0.0/8:443]"));
        for (var i = 0; i < Iterations * 5; i++)
        {
            var text = RandomText(random);
            var decision = policy.Evaluate(text, random.Next(-5, 70000));
            if (decision.IsAllowed)
            {
                Assert.Equal(NetworkDecisionSource.AllowRule, decision.Source);
                Assert.True(decision.Host.EndsWith(".example.com", StringComparison.Ordinal) || decision.Host.StartsWith("10.", StringComparison.Ordinal), decision.Host);
            }

            _ = HostPattern.TryParse(text, out _, out _);
        }
    }

    private static string RandomName(Random random)
    {
        var labels = Enumerable.Range(0, random.Next(1, 4))
            .Select(_ => random.Next(8) == 0 ? UnicodeLabels[random.Next(UnicodeLabels.Length)] : RandomLabel(random))
            .ToList();
        labels.Add(TopLevelLabels[random.Next(TopLevelLabels.Length)]);
        return string.Join('.', labels);
    }

    private static string RandomLabel(Random random)
    {
        var length = random.Next(1, 12);
        var label = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var dashAllowed = i > 0 && i < length - 1;
            label.Append(dashAllowed && random.Next(8) == 0 ? '-' : LabelCharacters[random.Next(LabelCharacters.Length)]);
        }

        return label.ToString();
    }

    /// <summary>The same host as a user might type it: random case, maybe a trailing dot, maybe padded.</summary>
    private static string RandomSpelling(Random random, string host)
    {
        var spelled = new string([.. host.Select(c => random.Next(2) == 0 ? char.ToUpper(c, CultureInfo.InvariantCulture) : c)]);
        if (random.Next(3) == 0)
        {
            spelled += ".";
        }

        return random.Next(5) == 0 ? " " + spelled + " " : spelled;
    }

    private static string RandomText(Random random)
    {
        const string alphabet = "abcXYZ019.-_*:/[]@%# \t\u00fc\u0430\u4f8b\u0000";
        var length = random.Next(0, 40);
        return new string([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
    }
}
