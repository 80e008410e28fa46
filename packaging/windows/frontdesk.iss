; Inno Setup 6 script for the Windows installer of Frontdesk.
; packaging/build.py runs: ISCC /DAppVersion=X.Y.Z /DSourceDir=<dist\frontdesk> /DOutputDir=<dist> frontdesk.iss

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\frontdesk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
; The one application id: it must equal desktop.integration.appid.APP_ID, which the app passes to
; SetCurrentProcessExplicitAppUserModelID, so Windows attributes toasts and taskbar buttons to this shortcut.
#define AppUserModelID "io.github.frontdesk.Frontdesk"

[Setup]
AppId=io.github.frontdesk.Frontdesk
AppName=Frontdesk
AppVersion={#AppVersion}
AppVerName=Frontdesk {#AppVersion}
AppPublisher=The Frontdesk developers
AppPublisherURL=https://github.com/frontdesk/frontdesk
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Frontdesk
DefaultGroupName=Frontdesk
DisableProgramGroupPage=yes
; Per-user install by default (no UAC prompt); an administrator may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=frontdesk-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\windows\frontdesk.ico
UninstallDisplayIcon={app}\frontdesk.exe
UninstallDisplayName=Frontdesk
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
; Ask a running Frontdesk (it lives in the tray) to close before files are replaced.
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "german"; MessagesFile: "compiler:Languages\German.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Frontdesk"; Filename: "{app}\frontdesk.exe"; AppUserModelID: "{#AppUserModelID}"; Comment: "See everyone on your website right now and chat with them"
Name: "{autodesktop}\Frontdesk"; Filename: "{app}\frontdesk.exe"; AppUserModelID: "{#AppUserModelID}"; Tasks: desktopicon

[Registry]
; Start at login is switched on in the app's settings (HKCU Run value "Frontdesk"); remove it with the app.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; ValueName: "Frontdesk"; Flags: uninsdeletevalue

[Run]
Filename: "{app}\frontdesk.exe"; Description: "{cm:LaunchProgram,Frontdesk}"; Flags: nowait postinstall skipifsilent
