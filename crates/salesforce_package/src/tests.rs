//! Every file is read back by quick-xml (an independent parser), and the values that matter
//! are found where Salesforce looks for them.

use super::*;
use quick_xml::events::Event;
use quick_xml::Reader;

fn kit(url: &str, name: &str) -> Vec<GeneratedFile> {
    generate(&PackageOptions {
        url: url.into(),
        name: name.into(),
        contact_email: "admin@example.com".into(),
    })
    .unwrap()
}

/// `(path of element names, text)` for every text node, after checking the document is
/// well-formed from start to end.
fn texts(xml: &str) -> Vec<(String, String)> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                path.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap())
            }
            Ok(Event::End(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(path.pop().as_deref(), Some(name.as_str()), "balanced tags");
            }
            Ok(Event::Text(t)) => {
                let text = t.unescape().expect("valid entities").trim().to_string();
                if !text.is_empty() {
                    out.push((path.join("/"), text));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed at {}: {e}\n{xml}",
                reader.buffer_position()
            ),
        }
    }
    assert!(path.is_empty(), "every element closed");
    out
}

/// The attribute `name` of the first element `tag`, unescaped.
fn attribute(xml: &str, tag: &str, name: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == tag.as_bytes() => {
                return e
                    .try_get_attribute(name)
                    .unwrap()
                    .map(|a| a.unescape_value().unwrap().into_owned());
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn file<'a>(files: &'a [GeneratedFile], suffix: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in {files:?}"))
        .contents
}

fn values<'a>(texts: &'a [(String, String)], path: &str) -> Vec<&'a str> {
    texts
        .iter()
        .filter(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
        .collect()
}

#[test]
fn every_xml_file_is_well_formed_and_the_project_is_in_source_format() {
    let files = kit("https://sonde.example.com", "Sonde");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for expected in [
        "sfdx-project.json",
        "manifest/package.xml",
        "force-app/main/default/connectedApps/Sonde.connectedApp-meta.xml",
        "force-app/main/default/aura/SondePanel/SondePanel.cmp",
        "force-app/main/default/aura/SondePanel/SondePanel.cmp-meta.xml",
        "force-app/main/default/aura/SondePanel/SondePanel.design",
        "force-app/main/default/aura/SondePanel/SondePanelController.js",
        "force-app/main/default/flexipages/Sonde_Contact_Record_Page.flexipage-meta.xml",
        "force-app/main/default/flexipages/Sonde_Campaign_Record_Page.flexipage-meta.xml",
    ] {
        assert!(paths.contains(&expected), "{expected} in {paths:?}");
    }
    for f in &files {
        if f.path.ends_with(".xml") || f.path.ends_with(".cmp") || f.path.ends_with(".design") {
            texts(&f.contents);
        }
    }
    let project: serde_json::Value =
        serde_json::from_str(file(&files, "sfdx-project.json")).unwrap();
    assert_eq!(project["packageDirectories"][0]["path"], "force-app");
    assert_eq!(project["sourceApiVersion"], API_VERSION);
}

#[test]
fn the_connected_app_points_canvas_and_oauth_at_sonde() {
    let files = kit("https://surveys.example.com/sonde/", "Sonde");
    let app = texts(file(&files, ".connectedApp-meta.xml"));
    assert_eq!(
        values(&app, "ConnectedApp/canvasConfig/canvasUrl"),
        ["https://surveys.example.com/sonde/panel"]
    );
    assert_eq!(
        values(&app, "ConnectedApp/canvasConfig/accessMethod"),
        ["Post"]
    );
    assert_eq!(
        values(&app, "ConnectedApp/canvasConfig/locations"),
        ["Aura", "Visualforce"]
    );
    assert_eq!(
        values(&app, "ConnectedApp/oauthConfig/callbackUrl"),
        ["https://surveys.example.com/sonde/oauth/salesforce/callback"]
    );
    assert_eq!(
        values(&app, "ConnectedApp/oauthConfig/scopes"),
        ["Api", "RefreshToken"]
    );
    assert_eq!(
        values(&app, "ConnectedApp/contactEmail"),
        ["admin@example.com"]
    );
    assert_eq!(values(&app, "ConnectedApp/label"), ["Sonde"]);
}

#[test]
fn the_component_wraps_the_canvas_app_with_the_record_and_every_page_places_it() {
    let files = kit("https://sonde.example.com", "Sonde");
    let cmp = file(&files, "SondePanel.cmp");
    let implements = attribute(cmp, "aura:component", "implements").unwrap();
    for interface in [
        "force:hasRecordId",
        "flexipage:availableForRecordHome",
        "flexipage:availableForAllPageTypes",
    ] {
        assert!(
            implements.split(',').any(|i| i == interface),
            "{implements}"
        );
    }
    assert_eq!(
        attribute(cmp, "force:canvasApp", "developerName").as_deref(),
        Some("Sonde")
    );
    assert_eq!(
        attribute(cmp, "force:canvasApp", "parameters").as_deref(),
        Some("{!v.canvasParameters}")
    );
    assert!(
        file(&files, "SondePanelController.js").contains("recordId: component.get(\"v.recordId\")")
    );
    for object in RECORD_PAGE_OBJECTS {
        let page = texts(file(
            &files,
            &format!("Sonde_{object}_Record_Page.flexipage-meta.xml"),
        ));
        assert_eq!(values(&page, "FlexiPage/sobjectType"), [*object]);
        assert_eq!(values(&page, "FlexiPage/type"), ["RecordPage"]);
        let components = values(
            &page,
            "FlexiPage/flexiPageRegions/itemInstances/componentInstance/componentName",
        );
        assert!(
            components.contains(&"c:SondePanel"),
            "{object}: {components:?}"
        );
    }
    let manifest = texts(file(&files, "manifest/package.xml"));
    assert!(values(&manifest, "Package/types/members").contains(&"Sonde_Lead_Record_Page"));
}

#[test]
fn a_name_with_markup_is_escaped_and_makes_a_clean_api_name() {
    let files = kit("https://sonde.example.com", "Sonde & <Friends> \"CX\"");
    let path = "force-app/main/default/connectedApps/Sonde_Friends_CX.connectedApp-meta.xml";
    let app = &files.iter().find(|f| f.path == path).expect(path).contents;
    assert!(
        !app.contains("<Friends>") && app.contains("&amp; &lt;Friends&gt;"),
        "{app}"
    );
    assert_eq!(
        values(&texts(app), "ConnectedApp/label"),
        ["Sonde & <Friends> \"CX\""]
    );
    let cmp = file(&files, "SondePanel.cmp");
    assert_eq!(
        attribute(cmp, "force:canvasApp", "developerName").as_deref(),
        Some("Sonde_Friends_CX")
    );
    let design = file(&files, "SondePanel.design");
    assert_eq!(
        attribute(design, "design:component", "label").as_deref(),
        Some("Sonde & <Friends> \"CX\" panel")
    );
    let page = texts(file(&files, "Sonde_Account_Record_Page.flexipage-meta.xml"));
    assert_eq!(
        values(&page, "FlexiPage/masterLabel"),
        ["Account Record Page (Sonde & <Friends> \"CX\")"]
    );
    assert_eq!(api_name("2nd survey app").unwrap(), "Sonde_2nd_survey_app");
    assert!(api_name("!!!").is_err());
}

#[test]
fn only_usable_urls_and_emails_are_taken() {
    let with = |url: &str, email: &str| {
        generate(&PackageOptions {
            url: url.into(),
            name: "Sonde".into(),
            contact_email: email.into(),
        })
    };
    assert!(matches!(
        with("http://sonde.example.com", "a@b.co"),
        Err(PackageError::Url(_))
    ));
    assert!(matches!(
        with("sonde.example.com", "a@b.co"),
        Err(PackageError::Url(_))
    ));
    assert!(matches!(
        with("https://sonde.example.com/?x=1", "a@b.co"),
        Err(PackageError::Url(_))
    ));
    assert!(matches!(
        with("https://sonde.example.com", "nobody"),
        Err(PackageError::ContactEmail(_))
    ));
    // Plain HTTP only for a Sonde on this machine.
    let local = with("http://127.0.0.1:8080", "a@b.co").unwrap();
    assert!(file(&local, ".connectedApp-meta.xml")
        .contains("<canvasUrl>http://127.0.0.1:8080/panel</canvasUrl>"));
}
