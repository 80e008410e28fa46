<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="en_US">
<context>
    <name>BotEditor</name>
    <message numerus="yes">
        <source>%n problem(s) to fix.</source>
        <translation>
            <numerusform>%n problem to fix.</numerusform>
            <numerusform>%n problems to fix.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ChatsPanel</name>
    <message numerus="yes">
        <source>%n unread</source>
        <translation>
            <numerusform>%n unread</numerusform>
            <numerusform>%n unread</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConversationDialog</name>
    <message numerus="yes">
        <source>%n unread message(s)</source>
        <translation>
            <numerusform>%n unread message</numerusform>
            <numerusform>%n unread messages</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>FilterBar</name>
    <message numerus="yes">
        <source>%n visitor(s)</source>
        <translation>
            <numerusform>%n visitor</numerusform>
            <numerusform>%n visitors</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <source>%n visitor(s) online</source>
        <translation>
            <numerusform>%n visitor online</numerusform>
            <numerusform>%n visitors online</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n unread chat(s)</source>
        <translation>
            <numerusform>%n unread chat</numerusform>
            <numerusform>%n unread chats</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message numerus="yes">
        <source>%n new visitor(s)</source>
        <translation>
            <numerusform>%n new visitor</numerusform>
            <numerusform>%n new visitors</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReorderHold</name>
    <message numerus="yes">
        <source>↑ %n new</source>
        <translation>
            <numerusform>↑ %n new</numerusform>
            <numerusform>↑ %n new</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message numerus="yes">
        <source>%n visitor(s) online</source>
        <translation>
            <numerusform>%n visitor online</numerusform>
            <numerusform>%n visitors online</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n unread chat(s)</source>
        <translation>
            <numerusform>%n unread chat</numerusform>
            <numerusform>%n unread chats</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n chat(s) waiting for an answer</source>
        <translation>
            <numerusform>%n chat waiting for an answer</numerusform>
            <numerusform>%n chats waiting for an answer</numerusform>
        </translation>
    </message>
</context>
</TS>
