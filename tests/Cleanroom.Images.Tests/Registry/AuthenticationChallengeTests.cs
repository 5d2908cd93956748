using Cleanroom.Images.Registry;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>WWW-Authenticate parsing (RFC 7235): quoted strings, commas inside them, several challenges.</summary>
public sealed class AuthenticationChallengeTests
{
    [Fact]
    public void Docker_hubs_bearer_challenge_is_read()
    {
        var challenge = Assert.Single(AuthenticationChallenge.Parse(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\""));

        Assert.True(challenge.IsScheme("Bearer"));
        Assert.Equal("https://auth.docker.io/token", challenge["realm"]);
        Assert.Equal("registry.docker.io", challenge["service"]);
        Assert.Equal("repository:library/alpine:pull", challenge["scope"]);
    }

    [Fact]
    public void Commas_inside_quoted_values_do_not_split_parameters()
    {
        var challenge = Assert.Single(AuthenticationChallenge.Parse(
            "Bearer realm=\"https://auth.example/token?a=1,b=2\", scope=\"repository:team/app:pull,push\" , error=\"insufficient_scope\""));

        Assert.Equal("https://auth.example/token?a=1,b=2", challenge["realm"]);
        Assert.Equal("repository:team/app:pull,push", challenge["scope"]);
        Assert.Equal("insufficient_scope", challenge["error"]);
    }

    [Fact]
    public void Scheme_and_parameter_names_are_case_insensitive_and_escapes_are_undone()
    {
        var challenge = Assert.Single(AuthenticationChallenge.Parse("bEaReR REALM=\"a \\\"quoted\\\" realm\",Service=plain-token"));

        Assert.True(challenge.IsScheme("Bearer"));
        Assert.Equal("a \"quoted\" realm", challenge["realm"]);
        Assert.Equal("plain-token", challenge["service"]);
    }

    [Fact]
    public void Several_challenges_in_one_header_are_separated()
    {
        var challenges = AuthenticationChallenge.Parse("Basic realm=\"registry, the private one\", Bearer realm=\"https://t/token\",service=\"s\"");

        Assert.Equal(["Basic", "Bearer"], challenges.Select(c => c.Scheme));
        Assert.Equal("registry, the private one", challenges[0]["realm"]);
        Assert.Equal("s", challenges[1]["service"]);
    }

    [Fact]
    public void Several_headers_and_token68_challenges_are_read()
    {
        var challenges = AuthenticationChallenge.Parse(["Negotiate a87421000492aa874209af8bc028==, Basic realm=\"x\"", "Bearer realm=\"y\""]);

        Assert.Equal(["Negotiate", "Basic", "Bearer"], challenges.Select(c => c.Scheme));
        Assert.Equal("a87421000492aa874209af8bc028==", challenges[0].Token68);
        Assert.Empty(challenges[0].Parameters);
    }

    [Fact]
    public void A_scheme_without_parameters_is_a_challenge_too()
    {
        var challenges = AuthenticationChallenge.Parse("Basic, Bearer realm=\"r\"");

        Assert.Equal(["Basic", "Bearer"], challenges.Select(c => c.Scheme));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ,  ,")]
    [InlineData("Bearer realm=\"unterminated")]
    [InlineData("Bearer =oops")]
    [InlineData("\"quoted scheme\"")]
    [InlineData("Bearer realm=\"x\" garbage here")]
    public void Malformed_headers_do_not_throw(string header)
    {
        var challenges = AuthenticationChallenge.Parse(header);

        Assert.All(challenges, c => Assert.False(string.IsNullOrEmpty(c.Scheme)));
    }
}
