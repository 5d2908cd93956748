using Cleanroom.Client.Exec;

namespace Cleanroom.Cli.Tests;

public sealed class EnvironmentEntriesTests
{
    [Fact]
    public void Bare_names_take_the_client_value_or_are_dropped()
    {
        var client = new Dictionary<string, string> { ["SET"] = "v", ["EMPTY"] = "" };
        Assert.Equal(
            ["A=1", "SET=v", "EMPTY=", "B=="],
            EnvironmentEntries.Expand(["A=1", "SET", "UNSET", "EMPTY", "B=="], name => client.GetValueOrDefault(name)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("=value")]
    public void Entries_without_a_name_are_rejected(string entry) =>
        Assert.Throws<FormatException>(() => EnvironmentEntries.Expand([entry], _ => null));
}
