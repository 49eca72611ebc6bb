return SharpTransformer.Cli.CommandLine.Run(args);
