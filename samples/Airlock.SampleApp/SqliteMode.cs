using System.Globalization;

using Microsoft.Data.Sqlite;

/// <summary>
/// `Airlock.SampleApp sqlite DB [SQL]`: a small stand-in for the sqlite3 command, so that
/// examples/local-platform's database stack (and with it `airlock demo`) needs only .NET. Runs SQL (the
/// argument, or standard input when there is none) against the SQLite file DB, creating the file if it
/// does not exist, statement by statement, and stops at the first error: the message goes to stderr,
/// the exit code is 1, and a transaction the SQL left open is rolled back as the connection closes.
/// Prints every result row as its columns joined by '|', as sqlite3 does.
/// </summary>
internal static class SqliteMode
{
    public static int Run(string[] args)
    {
        if (args.Length is < 1 or > 2 || args[0].Length == 0)
        {
            Console.Error.WriteLine("usage: Airlock.SampleApp sqlite DB [SQL]   (SQL from standard input when not given)");
            return 2;
        }

        var sql = args.Length == 2 ? args[1] : Console.In.ReadToEnd();
        if (string.IsNullOrWhiteSpace(sql))
        {
            return 0;
        }

        var connectionString = new SqliteConnectionStringBuilder { DataSource = args[0], Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString();
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            do
            {
                while (reader.Read())
                {
                    var columns = Enumerable.Range(0, reader.FieldCount)
                        .Select(i => reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture));
                    Console.WriteLine(string.Join('|', columns));
                }
            }
            while (reader.NextResult());
            return 0;
        }
        catch (SqliteException e)
        {
            Console.Error.WriteLine($"sqlite {args[0]}: {e.Message}");
            return 1;
        }
    }
}
