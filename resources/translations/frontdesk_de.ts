<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE" sourcelanguage="en_US">
    <context>
        <name />
        <message>
            <source>Visitor</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>Automatic message</source>
            <translation>Automatische Nachricht</translation>
        </message>
        <message>
            <source>System</source>
            <translation>System</translation>
        </message>
        <message>
            <source>read</source>
            <translation>gelesen</translation>
        </message>
        <message>
            <source>delivered</source>
            <translation>zugestellt</translation>
        </message>
        <message>
            <source>sent</source>
            <translation>gesendet</translation>
        </message>
    </context>
    <context>
        <name>ConversationDialog</name>
        <message>
            <source>Conversation history</source>
            <translation>Gesprächsverlauf</translation>
        </message>
        <message>
            <source>Typing indicator</source>
            <translation>Tippanzeige</translation>
        </message>
        <message>
            <source>Message</source>
            <translation>Nachricht</translation>
        </message>
        <message>
            <source>Write a message; Enter sends, Shift+Enter starts a new line</source>
            <translation>Nachricht schreiben; Eingabe sendet, Umschalt+Eingabe beginnt eine neue Zeile</translation>
        </message>
        <message>
            <source>&amp;Send</source>
            <translation>&amp;Senden</translation>
        </message>
        <message>
            <source>&amp;End conversation</source>
            <translation>Konversation &amp;beenden</translation>
        </message>
        <message>
            <source>Close the chat for the visitor too; the history stays</source>
            <translation>Beendet den Chat auch für den Besucher; der Verlauf bleibt erhalten</translation>
        </message>
        <message>
            <source>Conversation with %1</source>
            <translation>Konversation mit %1</translation>
        </message>
        <message>
            <source>%1 (no longer listed)</source>
            <translation>%1 (nicht mehr in der Liste)</translation>
        </message>
        <message>
            <source>online</source>
            <translation>online</translation>
        </message>
        <message>
            <source>left the website</source>
            <translation>hat die Website verlassen</translation>
        </message>
        <message>
            <source>sending…</source>
            <translation>wird gesendet …</translation>
        </message>
        <message>
            <source>Another agent</source>
            <translation>Ein anderer Agent</translation>
        </message>
        <message>
            <source>%1 is typing…</source>
            <translation>%1 schreibt …</translation>
        </message>
        <message>
            <source>The visitor</source>
            <translation>Der Besucher</translation>
        </message>
        <message>
            <source>The message is %1 characters long; the limit is %2. Shorten it or send it in parts.</source>
            <translation>Die Nachricht ist %1 Zeichen lang; erlaubt sind %2. Kürzen Sie sie oder senden Sie sie in Teilen.</translation>
        </message>
    </context>
    <context>
        <name>DBusNotificationAdapter</name>
        <message>
            <source>Open</source>
            <translation>Öffnen</translation>
        </message>
    </context>
    <context>
        <name>DetailPane</name>
        <message>
            <source>Visitor details</source>
            <translation>Besucherdetails</translation>
        </message>
        <message>
            <source>Identity</source>
            <translation>Identität</translation>
        </message>
        <message>
            <source>Visit</source>
            <translation>Besuch</translation>
        </message>
        <message>
            <source>Device</source>
            <translation>Gerät</translation>
        </message>
        <message>
            <source>Location</source>
            <translation>Standort</translation>
        </message>
        <message>
            <source>Pages</source>
            <translation>Seiten</translation>
        </message>
        <message>
            <source>Page</source>
            <translation>Seite</translation>
        </message>
        <message>
            <source>Time on page</source>
            <translation>Zeit auf der Seite</translation>
        </message>
        <message>
            <source>At</source>
            <translation>Um</translation>
        </message>
        <message>
            <source>Page trail</source>
            <translation>Besuchte Seiten</translation>
        </message>
        <message>
            <source>Chat history</source>
            <translation>Chatverlauf</translation>
        </message>
        <message>
            <source>Select a visitor to see the details.</source>
            <translation>Wählen Sie einen Besucher aus, um die Details zu sehen.</translation>
        </message>
        <message>
            <source>unknown</source>
            <translation>unbekannt</translation>
        </message>
        <message>
            <source>Name: %1</source>
            <translation>Name: %1</translation>
        </message>
        <message>
            <source>E-mail: %1</source>
            <translation>E-Mail: %1</translation>
        </message>
        <message>
            <source>Phone: %1</source>
            <translation>Telefon: %1</translation>
        </message>
        <message>
            <source>Customer: %1</source>
            <translation>Kunde: %1</translation>
        </message>
        <message>
            <source>yes</source>
            <translation>ja</translation>
        </message>
        <message>
            <source>no</source>
            <translation>nein</translation>
        </message>
        <message>
            <source>Visitor id: %1</source>
            <translation>Besucher-ID: %1</translation>
        </message>
        <message numerus="yes">
            <source>%n visit(s)</source>
            <translation>
                <numerusform>%n Besuch</numerusform>
                <numerusform>%n Besuche</numerusform>
            </translation>
        </message>
        <message>
            <source>Time on site: %1</source>
            <translation>Zeit auf der Website: %1</translation>
        </message>
        <message>
            <source>First seen: %1</source>
            <translation>Zuerst gesehen: %1</translation>
        </message>
        <message>
            <source>Last activity: %1</source>
            <translation>Letzte Aktivität: %1</translation>
        </message>
        <message>
            <source>Referrer: %1</source>
            <translation>Verweis: %1</translation>
        </message>
        <message>
            <source>direct</source>
            <translation>direkt</translation>
        </message>
        <message>
            <source>Status: %1</source>
            <translation>Status: %1</translation>
        </message>
        <message>
            <source>online</source>
            <translation>online</translation>
        </message>
        <message>
            <source>left</source>
            <translation>gegangen</translation>
        </message>
        <message>
            <source>Banned</source>
            <translation>Gesperrt</translation>
        </message>
        <message>
            <source>Received an automatic message</source>
            <translation>Hat eine automatische Nachricht erhalten</translation>
        </message>
        <message>
            <source>Browser: %1</source>
            <translation>Browser: %1</translation>
        </message>
        <message>
            <source>System: %1</source>
            <translation>System: %1</translation>
        </message>
        <message>
            <source>Device: %1</source>
            <translation>Gerät: %1</translation>
        </message>
        <message>
            <source>Language: %1</source>
            <translation>Sprache: %1</translation>
        </message>
        <message>
            <source>Time zone: %1</source>
            <translation>Zeitzone: %1</translation>
        </message>
        <message>
            <source>No messages yet.</source>
            <translation>Noch keine Nachrichten.</translation>
        </message>
    </context>
    <context>
        <name>FilterBar</name>
        <message>
            <source>All</source>
            <translation>Alles</translation>
        </message>
        <message>
            <source>Active</source>
            <translation>Aktiv</translation>
        </message>
        <message>
            <source>In chat</source>
            <translation>Im Chat</translation>
        </message>
        <message>
            <source>Customers</source>
            <translation>Kunden</translation>
        </message>
        <message>
            <source>Auto-messaged</source>
            <translation>Automatisch benachrichtigt</translation>
        </message>
        <message>
            <source>Blocked</source>
            <translation>Gesperrt</translation>
        </message>
        <message>
            <source>Every visitor</source>
            <translation>Alle Besucher</translation>
        </message>
        <message>
            <source>Visitors with some activity in the last 10 minutes</source>
            <translation>Besucher, die aktiv auf Ihrer Website surfen (in den letzten 10 Minuten gab es einige Aktivitäten)</translation>
        </message>
        <message>
            <source>Visitors chatting with your agents right now</source>
            <translation>Besucher, die gerade mit Ihren Agenten chatten</translation>
        </message>
        <message>
            <source>Visitors identified through the contact form or the API</source>
            <translation>Besucher, die durch das Kontaktformular oder die API identifiziert werden</translation>
        </message>
        <message>
            <source>Visitors who received an automatic message</source>
            <translation>Besucher, die eine automatische Nachricht erhalten haben</translation>
        </message>
        <message>
            <source>Visitors banned by your agents</source>
            <translation>Besucher, die von Ihren Agenten blockiert wurden</translation>
        </message>
        <message numerus="yes">
            <source>%n visitor(s)</source>
            <translation>
                <numerusform>%n Besucher</numerusform>
                <numerusform>%n Besucher</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>Frontdesk</name>
        <message>
            <source>Your login expired or was revoked. Please log in again.</source>
            <translation>Ihre Anmeldung ist abgelaufen oder wurde widerrufen. Bitte melden Sie sich erneut an.</translation>
        </message>
        <message>
            <source>Connecting…</source>
            <translation>Verbinde …</translation>
        </message>
        <message>
            <source>Online</source>
            <translation>Online</translation>
        </message>
        <message>
            <source>Connection lost - reconnecting…</source>
            <translation>Verbindung verloren – verbinde erneut …</translation>
        </message>
        <message>
            <source>Signed out: the login was revoked or expired.</source>
            <translation>Abgemeldet: Die Anmeldung wurde widerrufen oder ist abgelaufen.</translation>
        </message>
        <message>
            <source>The server speaks another protocol version; install a matching version of Frontdesk.</source>
            <translation>Der Server verwendet eine andere Protokollversion; installieren Sie eine passende Version von Frontdesk.</translation>
        </message>
        <message>
            <source>Disconnected</source>
            <translation>Getrennt</translation>
        </message>
        <message>
            <source>Visitor</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>Automatic message</source>
            <translation>Automatische Nachricht</translation>
        </message>
        <message>
            <source>System</source>
            <translation>System</translation>
        </message>
        <message>
            <source>read</source>
            <translation>gelesen</translation>
        </message>
        <message>
            <source>delivered</source>
            <translation>zugestellt</translation>
        </message>
        <message>
            <source>sent</source>
            <translation>gesendet</translation>
        </message>
    </context>
    <context>
        <name>LegendDialog</name>
        <message>
            <source>Visitor icons</source>
            <translation>Besuchersymbole</translation>
        </message>
        <message>
            <source>The first column of the visitor list shows each visitor's state:</source>
            <translation>Die erste Spalte der Besucherliste zeigt den Zustand jedes Besuchers:</translation>
        </message>
        <message>
            <source>Visitor icons and their meaning</source>
            <translation>Bedeutung der Besuchersymbole</translation>
        </message>
    </context>
    <context>
        <name>LoginDialog</name>
        <message>
            <source>Log in to Frontdesk</source>
            <translation>Bei Frontdesk anmelden</translation>
        </message>
        <message>
            <source>Server address</source>
            <translation>Serveradresse</translation>
        </message>
        <message>
            <source>you@example.com</source>
            <translation>sie@beispiel.de</translation>
        </message>
        <message>
            <source>E-mail</source>
            <translation>E-Mail</translation>
        </message>
        <message>
            <source>Password</source>
            <translation>Passwort</translation>
        </message>
        <message>
            <source>&amp;Server:</source>
            <translation>&amp;Server:</translation>
        </message>
        <message>
            <source>&amp;E-mail:</source>
            <translation>&amp;E-Mail:</translation>
        </message>
        <message>
            <source>&amp;Password:</source>
            <translation>&amp;Passwort:</translation>
        </message>
        <message>
            <source>Login error</source>
            <translation>Anmeldefehler</translation>
        </message>
        <message>
            <source>&amp;Log in</source>
            <translation>&amp;Anmelden</translation>
        </message>
        <message>
            <source>Logging in…</source>
            <translation>Anmeldung läuft …</translation>
        </message>
        <message>
            <source>Enter the server address, starting with http:// or https://.</source>
            <translation>Geben Sie die Serveradresse ein, beginnend mit http:// oder https://.</translation>
        </message>
        <message>
            <source>Enter the e-mail address of your agent account.</source>
            <translation>Geben Sie die E-Mail-Adresse Ihres Agentenkontos ein.</translation>
        </message>
        <message>
            <source>Enter your password.</source>
            <translation>Geben Sie Ihr Passwort ein.</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>Frontdesk</source>
            <translation>Frontdesk</translation>
        </message>
        <message>
            <source>Visitors</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Connecting…</source>
            <translation>Verbinde …</translation>
        </message>
        <message>
            <source>Connection</source>
            <translation>Verbindung</translation>
        </message>
        <message>
            <source>Visitors online</source>
            <translation>Besucher online</translation>
        </message>
        <message>
            <source>Unread chats</source>
            <translation>Ungelesene Chats</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>&amp;Datei</translation>
        </message>
        <message>
            <source>&amp;Settings…</source>
            <translation>&amp;Einstellungen …</translation>
        </message>
        <message>
            <source>&amp;Log out</source>
            <translation>A&amp;bmelden</translation>
        </message>
        <message>
            <source>&amp;Close window</source>
            <translation>Fenster &amp;schließen</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>&amp;Beenden</translation>
        </message>
        <message>
            <source>&amp;Visitors</source>
            <translation>Be&amp;sucher</translation>
        </message>
        <message>
            <source>&amp;Find visitor</source>
            <translation>Besucher &amp;suchen</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>&amp;Hilfe</translation>
        </message>
        <message>
            <source>Visitor &amp;icons</source>
            <translation>Besucher&amp;symbole</translation>
        </message>
        <message>
            <source>&amp;Demo website</source>
            <translation>&amp;Demo-Website</translation>
        </message>
        <message>
            <source>&amp;About Frontdesk</source>
            <translation>Ü&amp;ber Frontdesk</translation>
        </message>
        <message>
            <source>Frontdesk - %1 (%2, %3)</source>
            <translation>Frontdesk – %1 (%2, %3)</translation>
        </message>
        <message numerus="yes">
            <source>%n visitor(s) online</source>
            <translation>
                <numerusform>%n Besucher online</numerusform>
                <numerusform>%n Besucher online</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n unread chat(s)</source>
            <translation>
                <numerusform>%n ungelesener Chat</numerusform>
                <numerusform>%n ungelesene Chats</numerusform>
            </translation>
        </message>
        <message>
            <source>About Frontdesk</source>
            <translation>Über Frontdesk</translation>
        </message>
        <message>
            <source>Frontdesk %1
See everyone on your website right now and talk to them.</source>
            <translation>Frontdesk %1
Sehen Sie alle, die gerade auf Ihrer Website sind, und sprechen Sie mit ihnen.</translation>
        </message>
        <message>
            <source>Demo website: %1 - open it in a browser and chat with yourself.</source>
            <translation>Demo-Website: %1 – öffnen Sie sie in einem Browser und chatten Sie mit sich selbst.</translation>
        </message>
    </context>
    <context>
        <name>Notifier</name>
        <message>
            <source>Customer on your website</source>
            <translation>Kunde auf Ihrer Website</translation>
        </message>
        <message>
            <source>Returning visitor (visit %1)</source>
            <translation>Wiederkehrender Besucher (Besuch %1)</translation>
        </message>
        <message>
            <source>New visitor on your website</source>
            <translation>Neuer Besucher auf Ihrer Website</translation>
        </message>
        <message numerus="yes">
            <source>%n new visitor(s)</source>
            <translation>
                <numerusform>%n neuer Besucher</numerusform>
                <numerusform>%n neue Besucher</numerusform>
            </translation>
        </message>
        <message>
            <source>A visitor</source>
            <translation>Ein Besucher</translation>
        </message>
        <message>
            <source>Message from %1</source>
            <translation>Nachricht von %1</translation>
        </message>
    </context>
    <context>
        <name>ReorderHold</name>
        <message>
            <source>New visitors waiting</source>
            <translation>Neue Besucher warten</translation>
        </message>
        <message numerus="yes">
            <source>↑ %n new</source>
            <translation>
                <numerusform>↑ %n neuer</numerusform>
                <numerusform>↑ %n neue</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>SettingsDialog</name>
        <message>
            <source>Frontdesk settings</source>
            <translation>Frontdesk-Einstellungen</translation>
        </message>
        <message>
            <source>Server address</source>
            <translation>Serveradresse</translation>
        </message>
        <message>
            <source>Notify about new visitors</source>
            <translation>Über neue Besucher benachrichtigen</translation>
        </message>
        <message>
            <source>Every new visitor</source>
            <translation>Jeder neue Besucher</translation>
        </message>
        <message>
            <source>Returning visitors only</source>
            <translation>Nur wiederkehrende Besucher</translation>
        </message>
        <message>
            <source>Customers only</source>
            <translation>Nur Kunden</translation>
        </message>
        <message>
            <source>Off</source>
            <translation>Aus</translation>
        </message>
        <message>
            <source>Notify about chat messages while the window is in the background</source>
            <translation>Über Chat-Nachrichten benachrichtigen, während das Fenster im Hintergrund ist</translation>
        </message>
        <message>
            <source>Play a sound with notifications</source>
            <translation>Bei Benachrichtigungen einen Ton abspielen</translation>
        </message>
        <message>
            <source>Start minimized to the tray</source>
            <translation>Minimiert im Infobereich starten</translation>
        </message>
        <message>
            <source>Start Frontdesk when I log in</source>
            <translation>Frontdesk bei der Anmeldung am Computer starten</translation>
        </message>
        <message>
            <source>Language</source>
            <translation>Sprache</translation>
        </message>
        <message>
            <source>System language</source>
            <translation>Systemsprache</translation>
        </message>
        <message>
            <source>A new language shows after Frontdesk restarts.</source>
            <translation>Eine neue Sprache wird nach einem Neustart von Frontdesk angezeigt.</translation>
        </message>
        <message>
            <source>&amp;Server:</source>
            <translation>&amp;Server:</translation>
        </message>
        <message>
            <source>&amp;New visitors:</source>
            <translation>&amp;Neue Besucher:</translation>
        </message>
        <message>
            <source>&amp;Language:</source>
            <translation>&amp;Sprache:</translation>
        </message>
        <message>
            <source>Enter the server address, starting with http:// or https://.</source>
            <translation>Geben Sie die Serveradresse ein, beginnend mit http:// oder https://.</translation>
        </message>
    </context>
    <context>
        <name>Tray</name>
        <message>
            <source>&amp;Show Frontdesk</source>
            <translation>Frontdesk &amp;anzeigen</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>&amp;Beenden</translation>
        </message>
        <message numerus="yes">
            <source>%n visitor(s) online</source>
            <translation>
                <numerusform>%n Besucher online</numerusform>
                <numerusform>%n Besucher online</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n unread chat(s)</source>
            <translation>
                <numerusform>%n ungelesener Chat</numerusform>
                <numerusform>%n ungelesene Chats</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>VisitorTableModel</name>
        <message>
            <source>State</source>
            <translation>Zustand</translation>
        </message>
        <message>
            <source>Name</source>
            <translation>Name</translation>
        </message>
        <message>
            <source>Location</source>
            <translation>Standort</translation>
        </message>
        <message>
            <source>Current page</source>
            <translation>Aktuelle Seite</translation>
        </message>
        <message>
            <source>Time on site</source>
            <translation>Zeit auf der Website</translation>
        </message>
        <message>
            <source>Visits</source>
            <translation>Besuche</translation>
        </message>
        <message>
            <source>Referrer</source>
            <translation>Verweis</translation>
        </message>
        <message>
            <source>Browser / OS / device</source>
            <translation>Browser / System / Gerät</translation>
        </message>
        <message>
            <source>Agent</source>
            <translation>Agent</translation>
        </message>
        <message>
            <source>New or unanswered chat</source>
            <translation>Neuer oder unbeantworteter Chat</translation>
        </message>
        <message>
            <source>Chatting</source>
            <translation>Im Chat</translation>
        </message>
        <message>
            <source>Active</source>
            <translation>Aktiv</translation>
        </message>
        <message>
            <source>Idle</source>
            <translation>Inaktiv</translation>
        </message>
        <message>
            <source>Auto-messaged</source>
            <translation>Automatisch benachrichtigt</translation>
        </message>
        <message>
            <source>Customer</source>
            <translation>Kunde</translation>
        </message>
        <message>
            <source>Returning</source>
            <translation>Wiederkehrend</translation>
        </message>
        <message>
            <source>Banned</source>
            <translation>Gesperrt</translation>
        </message>
        <message>
            <source>Left</source>
            <translation>Gegangen</translation>
        </message>
        <message>
            <source>Typing</source>
            <translation>Schreibt</translation>
        </message>
    </context>
    <context>
        <name>VisitorsTab</name>
        <message>
            <source>Search by name, e-mail, page, country or visitor id (Ctrl+F)</source>
            <translation>Suche nach Name, E-Mail, Seite, Land oder Besucher-ID (Strg+F)</translation>
        </message>
        <message>
            <source>Search visitors</source>
            <translation>Besucher suchen</translation>
        </message>
        <message>
            <source>Visitor filters</source>
            <translation>Besucherfilter</translation>
        </message>
        <message>
            <source>Visitors</source>
            <translation>Besucher</translation>
        </message>
        <message>
            <source>Open conversation</source>
            <translation>Konversation öffnen</translation>
        </message>
        <message>
            <source>Ban…</source>
            <translation>Sperren …</translation>
        </message>
        <message>
            <source>Ban or unban visitor</source>
            <translation>Besucher sperren oder entsperren</translation>
        </message>
        <message>
            <source>Why the action is unavailable</source>
            <translation>Warum die Aktion nicht verfügbar ist</translation>
        </message>
        <message>
            <source>Select a visitor first.</source>
            <translation>Wählen Sie zuerst einen Besucher aus.</translation>
        </message>
        <message>
            <source>This visitor is banned.</source>
            <translation>Dieser Besucher ist gesperrt.</translation>
        </message>
        <message>
            <source>Connecting to the server…</source>
            <translation>Verbinde mit dem Server …</translation>
        </message>
        <message>
            <source>Available on the STANDARD and PRO plans.</source>
            <translation>Nur im STANDARD- und PRO-Paket verfügbar.</translation>
        </message>
        <message>
            <source>This visitor has left the website.</source>
            <translation>Dieser Besucher hat die Website verlassen.</translation>
        </message>
        <message>
            <source>Open a conversation with this visitor (Enter)</source>
            <translation>Eine Konversation mit diesem Besucher öffnen (Eingabe)</translation>
        </message>
        <message>
            <source>Unban…</source>
            <translation>Entsperren …</translation>
        </message>
        <message>
            <source>Opening the conversation with %1…</source>
            <translation>Konversation mit %1 wird geöffnet …</translation>
        </message>
        <message>
            <source>Unban visitor</source>
            <translation>Besucher entsperren</translation>
        </message>
        <message>
            <source>Lift the ban on %1? They can visit and chat again.</source>
            <translation>Sperre für %1 aufheben? Der Besucher kann dann wieder surfen und chatten.</translation>
        </message>
        <message>
            <source>Ban visitor</source>
            <translation>Besucher sperren</translation>
        </message>
        <message>
            <source>Ban %1? Their open pages disconnect and they cannot chat any more.</source>
            <translation>%1 sperren? Die offenen Seiten werden getrennt und der Besucher kann nicht mehr chatten.</translation>
        </message>
        <message>
            <source>Visitor unbanned.</source>
            <translation>Besucher entsperrt.</translation>
        </message>
        <message>
            <source>Visitor banned.</source>
            <translation>Besucher gesperrt.</translation>
        </message>
        <message>
            <source>The server refused</source>
            <translation>Der Server hat abgelehnt</translation>
        </message>
    </context>
    <context>
        <name>window</name>
        <message>
            <source>Demo website: %1 - open it in a browser and chat with yourself.</source>
            <translation>Demo-Website: %1 – öffnen Sie sie in einem Browser und chatten Sie mit sich selbst.</translation>
        </message>
    </context>
</TS>
