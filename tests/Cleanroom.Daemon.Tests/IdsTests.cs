namespace Cleanroom.Daemon.Tests;

/// <summary>
/// Lists show sandboxes and executions newest first by creation time and then id, so ids must come in the order they
/// were made even within one millisecond, where a plain ULID's random part would order them by chance.
/// </summary>
public sealed class IdsTests
{
    [Fact]
    public void Ids_made_one_after_another_sort_in_that_order_and_stay_well_formed()
    {
        // Thousands in a tight loop: many share a millisecond.
        var ids = Enumerable.Range(0, 20_000).Select(_ => Ids.New()).ToList();

        Assert.All(ids, id => Assert.True(Ids.IsValid(id), id));
        for (var i = 1; i < ids.Count; i++)
        {
            Assert.True(string.CompareOrdinal(ids[i - 1], ids[i]) < 0, $"{ids[i - 1]} then {ids[i]}");
        }
    }

    [Fact]
    public void Ids_made_on_several_threads_are_all_different()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                ids.Add(Ids.New());
            }
        });

        Assert.Equal(16_000, ids.Distinct().Count());
    }
}
