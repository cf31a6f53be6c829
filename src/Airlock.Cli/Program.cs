using Airlock.Cli;

return await AirlockCli.RunAsync(args);
