// A thin client: VS Code starts `mlp lsp` (the language server that ships
// with mlplang) over stdio and forwards .mlp documents to it. Highlighting
// comes from syntaxes/mlp.tmLanguage.json and works without the server.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;

interface ServerCommand {
  command: string;
  args: string[];
}

/** Expands `${workspaceFolder}` (the first workspace folder) in a setting. */
function expand(value: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder === undefined ? value : value.split("${workspaceFolder}").join(folder);
}

/** The command that starts the server, from the `mlp.server.*` settings. */
export function serverCommand(config: vscode.WorkspaceConfiguration): ServerCommand {
  const args = config.get<string[]>("server.args", ["lsp"]).map(expand);
  const pythonPath = expand(config.get<string>("server.pythonPath", "").trim());
  if (pythonPath !== "") {
    return { command: pythonPath, args: ["-m", "mlplang", ...args] };
  }
  const path = expand(config.get<string>("server.path", "mlp").trim());
  return { command: path === "" ? "mlp" : path, args };
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration("mlp");
  if (!config.get<boolean>("server.enabled", true)) {
    return;
  }
  const { command, args } = serverCommand(config);
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const run = { command, args, transport: TransportKind.stdio, options: { cwd } };
  const serverOptions: ServerOptions = { run, debug: run };
  output ??= vscode.window.createOutputChannel("MLP Language Server");
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "mlp" },
      { scheme: "untitled", language: "mlp" },
    ],
    synchronize: {
      // [tool.mlp] in pyproject.toml (or mlp.toml) configures the rules;
      // imported .mlp files affect the files that import them.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.mlp,mlp.toml,pyproject.toml}"),
    },
    outputChannel: output,
  };
  client = new LanguageClient("mlp", "MLP Language Server", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(
      `MLP: could not start the language server with \`${[command, ...args].join(" ")}\`: ${message}. ` +
        "Install mlplang with its server (`pip install 'mlplang[lsp]'`) or set `mlp.server.path` / `mlp.server.pythonPath`.",
    );
    client = undefined;
  }
  context.subscriptions.push({ dispose: () => void stopClient() });
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    await running.stop();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("mlp.restartServer", async () => {
      await stopClient();
      await startClient(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("mlp.server")) {
        await stopClient();
        await startClient(context);
      }
    }),
  );
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
