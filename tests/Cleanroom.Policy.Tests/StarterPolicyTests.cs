namespace Cleanroom.Policy.Tests;

/// <summary>The file written by <c>cleanroom policy init</c>.</summary>
public sealed class StarterPolicyTests
{
    [Fact]
    public void The_default_starter_compiles_and_warns_that_the_image_is_not_pinned()
    {
        var result = PolicyCompiler.Compile(StarterPolicy.Render(), "cleanroom.yaml");

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        Assert.Equal(PolicyErrorKind.UnpinnedImage, Assert.Single(result.Warnings).Kind);
        Assert.Equal(NetworkDefault.Deny, result.Policy!.Network.Default);
        Assert.Empty(result.Policy.Network.Allow);
    }

    [Fact]
    public void A_pinned_starter_compiles_without_warnings()
    {
        var result = PolicyCompiler.Compile(StarterPolicy.Render(TestPolicies.Image), "cleanroom.yaml");

        Assert.True(result.IsValid);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(TestPolicies.Image, result.Policy!.Image.Reference);
    }

    [Theory]
    [InlineData("# repository:")]
    [InlineData("# resources:")]
    [InlineData("#   - api.github.com:443")]
    [InlineData("# deny:")]
    [InlineData("# docker:")]
    [InlineData("# dependencies:")]
    [InlineData("# services:")]
    [InlineData("# run:")]
    public void The_starter_shows_every_section_as_a_commented_example(string example)
    {
        Assert.Contains(example, StarterPolicy.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Unusual_image_text_is_quoted_so_the_file_stays_yaml()
    {
        var result = PolicyCompiler.Compile(StarterPolicy.Render("x: #y"), "cleanroom.yaml");

        Assert.Equal(PolicyErrorKind.InvalidImageRef, Assert.Single(result.Errors).Kind);
    }
}
